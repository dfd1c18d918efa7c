# The two commands of the quick start: `make demo` and `make check`.
# Everything is built by CMake; this file only drives it.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all build demo check check-plain check-valgrind check-asan \
        bench format format-check install clean

all: build

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DMMF_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# Build, then run the examples.
demo: build
	./$(BUILD)/ipc_demo
	./$(BUILD)/large_file

# Build, run the whole suite, run it again under valgrind (when installed),
# then under ASan+UBSan. The last line printed is CTest's summary.
check: check-plain check-valgrind check-asan

check-plain: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

check-valgrind: build
	@if command -v valgrind >/dev/null 2>&1; then \
	    ./tests/run_valgrind.sh $(BUILD)/mmf_tests; \
	else \
	    echo "valgrind leg skipped: valgrind is not installed (apt-get install valgrind)"; \
	fi

check-asan:
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMMF_WERROR=ON \
	    -DMMF_SANITIZE=ON -DMMF_BUILD_EXAMPLES=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS)

# The benchmarks: a table, bench/results/latest.json and a plot.
# QUICK=1 uses a 64 MiB data set for a smoke run.
bench: build
	./$(BUILD)/bench/mmf_bench $(if $(QUICK),--quick) --out bench/results

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cpp')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h' '*.cpp')

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
