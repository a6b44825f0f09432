# Makefile - builds mailetd, runs it, tests it.
#
#   make run     install missing packages, configure, build, run on conf/
#   make check   the same set-up, then every test (also under ASan+UBSan)
#   make fuzz    run every libFuzzer target for FUZZ_TIME seconds
#   make bench   mailetd against Postfix and smtp-sink (tests/bench/results.md)
#
# Objects go to build/ (build/asan/ for the sanitizer build, build/fuzz/
# for clang + libFuzzer); the programs are src/mailetd and src/mailetctl.

-include config.mk

CFLAGS ?= -O2 -g
STD_FLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wformat=2 \
	-Wno-format-nonliteral -Wstrict-prototypes -Wmissing-prototypes
ALL_CFLAGS = $(STD_FLAGS) $(CFLAGS) $(DEPS_CFLAGS) -DMAILETD_VERSION='"$(VERSION)"'
SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all

LIB_DIRS = src/core src/config src/auth src/dns src/spf src/net src/protocol src/spool src/delivery src/rrt \
	handlers handlers/core handlers/fastfail
LIB_SRCS = $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
DAEMON_SRCS = src/mailetd.c
CTL_SRCS = src/ctl/mailetctl.c
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)

# OBJ and BINDIR can be pointed elsewhere to build a second tree in parallel.
OBJ = build
BINDIR = src
LIB_OBJS = $(LIB_SRCS:%.c=$(OBJ)/%.o)
ASAN_LIB_OBJS = $(LIB_SRCS:%.c=$(OBJ)/asan/%.o)
FUZZ_LIB_OBJS = $(LIB_SRCS:%.c=$(OBJ)/fuzz/%.o)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(OBJ)/tests/%)
ASAN_UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(OBJ)/asan/tests/%)
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=$(OBJ)/fuzz/%)

FUZZ_TIME ?= 60
FUZZ_CHECK_TIME ?= 10

.PHONY: all asan deps setup tls-cert run check unit unit-asan integration integration-asan \
	fuzz fuzz-check fuzz-build bench format clean distclean

all: $(BINDIR)/mailetd $(BINDIR)/mailetctl

# --- set-up ----------------------------------------------------------------

deps:
	@sh build-aux/install-deps.sh

build/deps.stamp: build-aux/install-deps.sh
	@sh build-aux/install-deps.sh
	@mkdir -p build && touch $@

configure: configure.ac build/deps.stamp
	autoconf

config.mk: configure config.mk.in build/deps.stamp
	./configure --quiet

setup: deps config.mk

# --- programs ----------------------------------------------------------------

$(OBJ)/%.o: %.c config.mk
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(OBJ)/asan/%.o: %.c config.mk
	@mkdir -p $(@D)
	$(CC) $(STD_FLAGS) $(SAN_FLAGS) $(DEPS_CFLAGS) -DMAILETD_VERSION='"$(VERSION)"' \
		-MMD -MP -c $< -o $@

$(OBJ)/libmailetd.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(OBJ)/asan/libmailetd.a: $(ASAN_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BINDIR)/mailetd: $(OBJ)/src/mailetd.o $(OBJ)/libmailetd.a
	$(CC) $(CFLAGS) -o $@ $^ $(DEPS_LIBS)

$(BINDIR)/mailetctl: $(OBJ)/src/ctl/mailetctl.o $(OBJ)/libmailetd.a
	$(CC) $(CFLAGS) -o $@ $^ $(DEPS_LIBS)

$(OBJ)/asan/mailetd: $(OBJ)/asan/src/mailetd.o $(OBJ)/asan/libmailetd.a
	$(CC) $(SAN_FLAGS) -o $@ $^ $(DEPS_LIBS)

$(OBJ)/asan/mailetctl: $(OBJ)/asan/src/ctl/mailetctl.o $(OBJ)/asan/libmailetd.a
	$(CC) $(SAN_FLAGS) -o $@ $^ $(DEPS_LIBS)

asan: $(OBJ)/asan/mailetd $(OBJ)/asan/mailetctl

# --- running -----------------------------------------------------------------

# A self-signed certificate for the sample conf/ (the TLS servers on 2465
# and 2587), made once; replace conf/private.key and conf/certs.pem with
# real ones for production.
tls-cert:
	@test -s conf/private.key -a -s conf/certs.pem || { \
		echo "making a self-signed certificate: conf/private.key conf/certs.pem"; \
		(umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 825 \
			-subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
			-keyout conf/private.key -out conf/certs.pem 2>/dev/null) && \
		chmod 644 conf/certs.pem; }

run: setup all tls-cert
	./$(BINDIR)/mailetd -c conf

# --- tests -------------------------------------------------------------------

$(OBJ)/tests/%: tests/unit/%.c $(OBJ)/libmailetd.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -o $@ $^ $(DEPS_LIBS) $(CHECK_LIBS)

$(OBJ)/asan/tests/%: tests/unit/%.c $(OBJ)/asan/libmailetd.a
	@mkdir -p $(@D)
	$(CC) $(STD_FLAGS) $(SAN_FLAGS) $(DEPS_CFLAGS) $(CHECK_CFLAGS) \
		-DMAILETD_VERSION='"$(VERSION)"' -o $@ $^ $(DEPS_LIBS) $(CHECK_LIBS)

unit: $(UNIT_BINS) tls-cert
	@sh tests/unit/run.sh $(UNIT_BINS)

unit-asan: $(ASAN_UNIT_BINS) tls-cert
	@sh tests/unit/run.sh $(ASAN_UNIT_BINS)

integration: all tls-cert
	python3 tests/integration/run.py --mailetd $(BINDIR)/mailetd --mailetctl $(BINDIR)/mailetctl

integration-asan: asan tls-cert
	python3 tests/integration/run.py --mailetd $(OBJ)/asan/mailetd \
		--mailetctl $(OBJ)/asan/mailetctl --sanitizer

check: setup all asan
	@$(MAKE) --no-print-directory OBJ=$(OBJ) BINDIR=$(BINDIR) unit
	@$(MAKE) --no-print-directory OBJ=$(OBJ) BINDIR=$(BINDIR) unit-asan
	@$(MAKE) --no-print-directory OBJ=$(OBJ) BINDIR=$(BINDIR) integration
	@$(MAKE) --no-print-directory OBJ=$(OBJ) BINDIR=$(BINDIR) integration-asan
	@$(MAKE) --no-print-directory OBJ=$(OBJ) BINDIR=$(BINDIR) fuzz-check

# --- fuzzing (clang + libFuzzer) ---------------------------------------------

FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

$(OBJ)/fuzz/%.o: %.c config.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
		$(DEPS_CFLAGS) -DMAILETD_VERSION='"$(VERSION)"' -MMD -MP -c $< -o $@

$(OBJ)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE $(FUZZ_FLAGS) $(DEPS_CFLAGS) -o $@ $^ $(DEPS_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: setup fuzz-build
	@sh tests/fuzz/run.sh $(OBJ)/fuzz $(FUZZ_TIME) $(FUZZ_BINS)

fuzz-check: fuzz-build
	@sh tests/fuzz/run.sh $(OBJ)/fuzz $(FUZZ_CHECK_TIME) $(FUZZ_BINS)

# Keep the fuzz objects: they are only reached through a pattern chain.
.SECONDARY: $(FUZZ_LIB_OBJS)

# --- benchmarks (not part of check; installs postfix and gnuplot-nox) ---------

BENCH_RUNS ?= 5

bench: setup all
	python3 tests/bench/bench.py --mailetd $(BINDIR)/mailetd --runs $(BENCH_RUNS)

# --- housekeeping ------------------------------------------------------------

format:
	clang-format -i $(LIB_SRCS) $(DAEMON_SRCS) $(CTL_SRCS) $(wildcard src/*/*.h handlers/*/*.h)

clean:
	rm -rf $(OBJ)/src $(OBJ)/handlers $(OBJ)/tests $(OBJ)/asan $(OBJ)/fuzz \
		$(OBJ)/libmailetd.a $(BINDIR)/mailetd $(BINDIR)/mailetctl

distclean: clean
	rm -rf $(OBJ) config.mk config.status config.log configure autom4te.cache

-include $(LIB_OBJS:.o=.d) $(ASAN_LIB_OBJS:.o=.d) $(FUZZ_LIB_OBJS:.o=.d) \
	$(OBJ)/src/mailetd.d $(OBJ)/src/ctl/mailetctl.d \
	$(OBJ)/asan/src/mailetd.d $(OBJ)/asan/src/ctl/mailetctl.d
