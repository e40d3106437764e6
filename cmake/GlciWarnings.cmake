# Warnings for every target of the project; errors unless GLCI_WERROR is OFF.
add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes
                    -Wformat=2 -Wmissing-prototypes -Wno-unused-parameter)
if(GLCI_WERROR)
  set(CMAKE_COMPILE_WARNING_AS_ERROR ON)
endif()
