# The two commands of the quick start: `make demo` and `make check`.
# Everything is built by CMake; this file only drives it.

BUILD      ?= build
ASAN_BUILD ?= build-asan
WIN_BUILD  ?= build-win
WINE       := $(firstword $(shell command -v wine64 wine 2>/dev/null) \
                $(wildcard /usr/lib/wine/wine64))
WINESERVER := $(firstword $(shell command -v wineserver 2>/dev/null) \
                $(wildcard $(dir $(WINE))wineserver))
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all build demo check check-plain check-valgrind check-windows \
        check-windows-run check-asan bench format format-check install clean

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
# run the Windows build's tests under wine (when mingw-w64 and wine are
# installed), then everything under ASan+UBSan. The last line printed is
# CTest's summary.
check: check-plain check-valgrind check-windows check-asan

check-plain: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

check-valgrind: build
	@if command -v valgrind >/dev/null 2>&1; then \
	    ./tests/run_valgrind.sh $(BUILD)/mmf_tests; \
	else \
	    echo "valgrind leg skipped: valgrind is not installed (apt-get install valgrind)"; \
	fi

check-windows:
	@if command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 && [ -n "$(WINE)" ]; then \
	    cmake -S . -B $(WIN_BUILD) -DMMF_WERROR=ON \
	        -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/mingw-w64-x86_64.cmake >/dev/null && \
	    cmake --build $(WIN_BUILD) -j$(JOBS) && \
	    $(MAKE) --no-print-directory check-windows-run; \
	else \
	    echo "Windows leg skipped: needs x86_64-w64-mingw32-gcc and wine (apt-get install gcc-mingw-w64-x86-64 wine64)"; \
	fi

# One wineserver for the whole run, kept alive between tests (one that
# exits while the next test starts makes that test fail with "wine client
# error"), and the wine prefix set up before the tests start in parallel.
check-windows-run:
	@prefix="$${WINEPREFIX:-$$HOME/.wine}"; mkdir -p "$$prefix"; \
	started=0; \
	if [ -n "$(WINESERVER)" ] && $(WINESERVER) -p 2>/dev/null; then started=1; fi; \
	WINEDEBUG=-all $(WINE) wineboot -u >/dev/null 2>&1; \
	(cd $(WIN_BUILD) && ctest --output-on-failure -j$(JOBS)); rc=$$?; \
	if [ $$started = 1 ]; then $(WINESERVER) -k 2>/dev/null; fi; \
	exit $$rc

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
	rm -rf $(BUILD) $(ASAN_BUILD) $(WIN_BUILD)
