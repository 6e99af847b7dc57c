# moat: `make run` and `make test` on a fresh Debian 12 machine.
#
# Both install whatever build dependency is missing (apt-get, only what is
# missing), configure with meson and build with ninja.

BUILD      ?= build
TEST_BUILD ?= build-test
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

# Debian packages the build and the test suite need.
DEPS := gcc make meson ninja-build pkg-config python3 \
        libseccomp-dev liburing-dev libcriterion-dev libjson-c-dev \
        busybox-static strace clang libclang-rt-14-dev

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build run test test-build bench bench-files bench-programs bench-procs bench-platforms bench-handoff bench-make format clean

all: build

deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "moat: installing missing build dependencies:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS)

run: build
	@echo "== moat do -- /bin/busybox echo (static busybox, systrap platform)"
	./$(BUILD)/runtime/moat do -- /bin/busybox echo "hello from inside the moat sandbox"
	@echo "== moat do -- /bin/busybox uname -a (the sandbox's own identity)"
	./$(BUILD)/runtime/moat do --hostname=sandbox -- /bin/busybox uname -a
	@echo "== moat do -- /bin/cat /etc/os-release (Debian's dynamically linked cat, the host's root through the Gofer)"
	./$(BUILD)/runtime/moat do -- /bin/cat /etc/os-release
	@echo "== moat do -- /bin/ls -la /proc/self/ (the Sentry's own /proc)"
	./$(BUILD)/runtime/moat do -- /bin/ls -la /proc/self/
	@echo "== moat do -- /bin/sh -c 'seq 1 100000 | sort -rn | head -3' (dash: fork, exec, pipes, wait)"
	./$(BUILD)/runtime/moat do -- /bin/sh -c 'seq 1 100000 | sort -rn | head -3'
	@echo "== moat do --platform=ptrace -- /bin/busybox echo (the other platform)"
	./$(BUILD)/runtime/moat do --platform=ptrace -- /bin/busybox echo "hello from the ptrace platform"

# The test build carries AddressSanitizer and UBSan.
$(TEST_BUILD)/build.ninja:
	meson setup $(TEST_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

test-build: deps $(TEST_BUILD)/build.ninja
	ninja -C $(TEST_BUILD) -j $(JOBS)

test: test-build
	python3 tests/run_suite.py $(TEST_BUILD)

bench: build
	ninja -C $(BUILD) bench

bench-files: build
	ninja -C $(BUILD) bench-files

bench-programs: build
	ninja -C $(BUILD) bench-programs

bench-procs: build
	ninja -C $(BUILD) bench-procs

bench-platforms: build
	ninja -C $(BUILD) bench-platforms

bench-handoff: build
	ninja -C $(BUILD) bench-handoff

bench-make: build
	ninja -C $(BUILD) bench-make

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD)
