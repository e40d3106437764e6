# Thin wrapper over CMake. `make test` and `make demo` are the two entry points;
# both first run the set-up script, which installs nothing when all is present.
BUILD    ?= build
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
# Most system tests wait on real networks, processes and timers, not on the
# CPU: three at a time per core keep the suite short without starving any.
TEST_JOBS ?= $(shell echo $$(( $(JOBS) * 3 )))
CMAKE_FLAGS ?=

.PHONY: all setup configure build test demo package bench clean

all: build

setup:
	@bash deploy/setup-deps.sh

configure:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: setup
	@$(MAKE) --no-print-directory build
	@cd $(BUILD) && ctest --output-on-failure -j $(TEST_JOBS)

demo: setup
	@$(MAKE) --no-print-directory build
	@bash deploy/demo.sh $(BUILD)

package: setup
	@$(MAKE) --no-print-directory build
	@cd $(BUILD) && cpack -G DEB

bench: setup
	@$(MAKE) --no-print-directory build
	@for b in index store ingest agent cli report; do $(BUILD)/bench/glci-bench $$b; done

clean:
	@rm -rf $(BUILD)
