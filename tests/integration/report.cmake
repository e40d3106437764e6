# glci report / export --format xlsx / template as the real binary, the
# files they write checked in headless Chromium, poppler and openpyxl
# (tests/integration/report_check.py, run with /usr/bin/python3).
if(NOT TARGET glci_testsupport)
  add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
  target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
endif()
glci_add_test(test_report_cli integration
  SOURCES integration/test_report_cli.c integration/test_cli_support.c
  LIBS glci_store glci_common glci_testsupport PkgConfig::JANSSON
  TIMEOUT 900)
add_dependencies(test_report_cli glci)

# The template's CSV through a real collector and agent (the system harness
# of tests/support/glci_checker.c, which tests/fault/system.cmake defines).
if(NOT TARGET glci_checker)
  add_library(glci_checker STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_checker.c)
  target_include_directories(glci_checker PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
  target_link_libraries(glci_checker PUBLIC glci_testsupport glci_store glci_index glci_common
                        PkgConfig::CMOCKA)
endif()
glci_add_test(test_template_agent integration
  SOURCES integration/test_template_agent.c
  LIBS glci_checker PkgConfig::JANSSON
  TIMEOUT 600)
add_dependencies(test_template_agent glci glci-agent glci-collector)

# Names and long lines in the site and the profile: Arabic and Hebrew,
# the longest names, overflowing lines, the footer of an edition.
glci_add_test(test_report_text integration
  SOURCES integration/test_report_text.c integration/test_cli_support.c
  LIBS glci_store glci_common glci_testsupport PkgConfig::JANSSON
  TIMEOUT 600)
add_dependencies(test_report_text glci)
