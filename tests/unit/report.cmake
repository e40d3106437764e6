# report/: the model, the site, the profile, the charts and the sheets, with
# results computed by the engine and no store.
glci_add_test(test_report unit SOURCES unit/test_report.c LIBS glci_report glci_index glci_common)
