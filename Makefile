# zmtrace: kernel side (bpf/*.bpf.c -> .bpf.o -> .skel.h), user side (user/*.c),
# workload tools (tools/*.c) and tests. `make V=1` prints full commands.
ARCH      ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= cc
CLANG     ?= clang
BPFTOOL   ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
OUT       := build
VMLINUX   := vmlinux/$(ARCH)/vmlinux.h

CFLAGS    ?= -O2 -g
CFLAGS    += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -I$(OUT) -Iuser
LDLIBS    += -lbpf -lelf -lz -lm -lncursesw

# The system include dirs clang would use for the host, for the BPF build.
CLANG_SYS := $(shell $(CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPFCFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -Ivmlinux/$(ARCH) $(CLANG_SYS)

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))
USER_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
USER_OBJS := $(patsubst user/%.c,$(OUT)/%.o,$(USER_SRCS))
TOOLS     := $(patsubst tools/%.c,tools/%,$(wildcard tools/*.c))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all run test unit install clean vmlinux fuzz
.SECONDARY:
all: zmtrace $(TOOLS)

$(OUT):
	$(Q)mkdir -p $(OUT) $(OUT)/tests

$(OUT)/%.bpf.o: bpf/%.bpf.c include/zmtrace.h $(wildcard bpf/*.h) $(VMLINUX) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPFCFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(OUT)/%.o: user/%.c $(wildcard user/*.h) include/zmtrace.h $(SKELS) | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

zmtrace: $(OUT)/main.o $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

tools/bench_empty: tools/bench_empty.c $(OUT)/empty.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LDLIBS) -o $@

tools/capture_load: tools/capture_load.c include/zmtrace.h $(OUT)/capload.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LDLIBS) -o $@

# The synthetic capture for tools/bench-report.sh: it writes with the
# recorder, so it links the user objects (the generic rule below does not).
tools/gen_capture: tools/gen_capture.c $(USER_OBJS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(USER_OBJS) $(LDLIBS) -o $@

tools/%: tools/%.c
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -std=c11 -Wall -Wextra -Werror -Iinclude $< -pthread -o $@

$(OUT)/tests/%: tests/unit/%.c $(USER_OBJS) | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(USER_OBJS) $(LDLIBS) -lcmocka -o $@

unit: $(UNIT_BINS)

# The capture reader, and the reading behind it (record decoder, replay,
# every report format), under libFuzzer, ASan and UBSan (clang); seed
# corpora of real captures in build/fuzz-corpus and of bare record streams
# in build/fuzz-report-seeds (see tests/fuzz/fuzz_report.c). Run them:
#   build/fuzz_capture -max_total_time=600 build/fuzz-corpus
#   build/fuzz_report -close_fd_mask=2 -max_total_time=600 \
#       build/fuzz-report-corpus build/fuzz-report-seeds build/fuzz-corpus
fuzz: $(OUT)/fuzz_capture $(OUT)/fuzz_report $(OUT)/fuzz_seeds
	$(Q)mkdir -p $(OUT)/fuzz-corpus $(OUT)/fuzz-report-seeds $(OUT)/fuzz-report-corpus && \
		$(OUT)/fuzz_seeds $(OUT)/fuzz-corpus $(OUT)/fuzz-report-seeds

FUZZ_SEEDS_SRCS := user/capture.c user/recorder.c user/records.c user/util.c

$(OUT)/fuzz_seeds: tests/fuzz/seeds.c $(FUZZ_SEEDS_SRCS) $(wildcard user/*.h) | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) tests/fuzz/seeds.c $(FUZZ_SEEDS_SRCS) -lz -lm -o $@

FUZZ_FLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Iuser \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION

$(OUT)/fuzz_capture: tests/fuzz/fuzz_capture.c user/capture.c user/capture.h | $(OUT)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) tests/fuzz/fuzz_capture.c user/capture.c -lz -o $@

# What the reports need and no more: no tracer, session or libbpf (cli.c
# is here for open_output(), which cmd_report in report.c calls).
FUZZ_REPORT_SRCS := user/report.c user/report_html.c user/report_perfetto.c user/model.c \
	user/records.c user/capture.c user/zstate.c user/memstate.c user/memseries.c \
	user/dist.c user/hashmap.c user/sysmem.c user/util.c user/output.c user/out_mem.c \
	user/out_html.c user/cli.c

$(OUT)/fuzz_report: tests/fuzz/fuzz_report.c $(FUZZ_REPORT_SRCS) $(wildcard user/*.h) | $(OUT)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) tests/fuzz/fuzz_report.c $(FUZZ_REPORT_SRCS) -lz -lm -o $@

run: all
	./zmtrace top

test: all unit
	@tests/run.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX)

install: zmtrace
	install -d $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 zmtrace $(DESTDIR)$(PREFIX)/sbin/zmtrace

clean:
	rm -rf $(OUT) zmtrace $(TOOLS)
