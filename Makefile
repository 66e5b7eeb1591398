# Sluice — see README.md. Every target installs the Debian packages it needs (as root).
SWIFT ?= swift
SCRATCH ?= .build
# Packages the build, the tests and the benchmarks need; installed when missing.
BUILD_PACKAGES = pkg-config gcc libsndfile1-dev libasound2-dev libsoxr-dev
TEST_PACKAGES = $(BUILD_PACKAGES) pulseaudio-utils sox libsox-fmt-pulse alsa-utils procps python3 python3-pulsectl \
	gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-pulseaudio ffmpeg mpv libasound2-plugins
BENCH_PACKAGES = $(TEST_PACKAGES) libspeexdsp-dev stress-ng pulseaudio pipewire pipewire-pulse wireplumber dbus

define ensure_packages
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "run as root (or install:$$missing)"; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

.PHONY: all build run test bench bench-compare deps deps-test deps-bench clean

all: build

deps:
	$(call ensure_packages,$(BUILD_PACKAGES))

deps-test:
	$(call ensure_packages,$(TEST_PACKAGES))

deps-bench:
	$(call ensure_packages,$(BENCH_PACKAGES))

build: deps
	$(SWIFT) build -c release --scratch-path $(SCRATCH)

# Runs the daemon in the foreground with the default config (or ARGS="--config PATH").
run: build
	$(SCRATCH)/release/sluiced $(ARGS)

# Unit and integration tests (debug build), then the realtime allocation proof again in a
# release build, where the optimizer's choices are the ones users run.
FAKECARD = $(abspath $(SCRATCH))/fakecard/libasound_module_pcm_sluicefake.so

# The clocked fake sound card (an ALSA ioplug plugin) the ALSA tests play into.
$(FAKECARD): Tests/AlsaTests/Fixtures/fakecard/sluicefake.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -DPIC -O2 -Wall -Wextra -o $@ $< -lasound

test: deps-test
	$(MAKE) $(FAKECARD)
	$(SWIFT) build --build-tests --scratch-path $(SCRATCH)
	SLUICE_FAKECARD_LIB=$(FAKECARD) SWIFT_BACKTRACE=enable=no $(SWIFT) test --skip-build --scratch-path $(SCRATCH)
	$(SWIFT) build -c release --build-tests --scratch-path $(SCRATCH)
	SLUICE_FAKECARD_LIB=$(FAKECARD) SWIFT_BACKTRACE=enable=no $(SWIFT) test -c release --skip-build --scratch-path $(SCRATCH) --filter 'RealtimeAllocationTests|AlsaRealtimeTests|StreamRealtimeTests'

bench: deps-bench build $(FAKECARD)
	cd Benchmarks && SLUICE_FAKECARD_LIB=$(FAKECARD) $(SWIFT) package --disable-sandbox benchmark --no-progress
	python3 Benchmarks/scripts/system_bench.py $(SCRATCH)/release
	Benchmarks/resampler/run.sh

# Sluice against PulseAudio 16.1 and pipewire-pulse, started privately side by side.
bench-compare: deps-bench build
	python3 Benchmarks/scripts/pulse_bench.py $(SCRATCH)/release

clean:
	rm -rf $(SCRATCH) Benchmarks/.build
