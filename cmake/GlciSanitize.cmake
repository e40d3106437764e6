# GLCI_SANITIZE=ON: AddressSanitizer + UndefinedBehaviorSanitizer, any report fatal.
if(GLCI_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
endif()
