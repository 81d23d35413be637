# customer_success: PGXS build.  `make test`, `make demo` and `make bench`
# install what they need (Debian packages), build, install the extension and
# run against a throwaway cluster: see test/run.

EXTENSION   = customer_success
EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)
MODULE_big  = $(EXTENSION)
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is assembled from src/common.sql followed by one piece
# per metric family (src/<family>.sql), each self-contained, by
# src/expand.awk: the pieces as they are, except that an `-- @expand
# src/<template>.sql.in` block is written out as the template with its
# @key@ values filled in, so that every object is plain SQL in the script.
# Pieces that use another family's types come after the others (sbg fits a
# survival_summary, the log-rank tests take one per group).
SQL_LATE    = src/sbg.sql src/logrank.sql
SQL_PARTS   = src/common.sql $(filter-out src/common.sql $(SQL_LATE),$(sort $(wildcard src/*.sql))) $(SQL_LATE)
SQL_MAKE    = awk -f src/expand.awk $(SQL_PARTS)
# Only the default_version's script is generated: the scripts of released
# versions (customer_success--1.0.sql) are frozen, committed as released, and
# installed beside it with the upgrade scripts (customer_success--<old>--<new>.sql),
# so that CREATE EXTENSION ... VERSION and ALTER EXTENSION ... UPDATE find them.
INSTALL_SQL = $(EXTENSION)--$(EXTVERSION).sql
DATA        = $(sort $(INSTALL_SQL) $(wildcard $(EXTENSION)--*.sql))

# pg_regress tests in sql/ and expected/: setup first, one file per family,
# install last (it reinstalls the extension in another schema)
FAMILY_TESTS = $(filter-out setup install,$(basename $(notdir $(sort $(wildcard sql/*.sql)))))
REGRESS     = setup $(FAMILY_TESTS) install

# Warnings, never -Werror in the shipped build (a new compiler's new warning
# must not break a packager's or a user's build); CI builds with
# PG_CFLAGS="-Wall -Wextra -Werror", and with clang (test/build-checks).
PG_CFLAGS  ?= -Wall -Wextra
EXTRA_CLEAN = results regression.diffs regression.out

PG_CONFIG  ?= pg_config
PGXS       := $(wildcard $(shell $(PG_CONFIG) --pgxs 2>/dev/null))

ifneq ($(PGXS),)
include $(PGXS)

all: $(INSTALL_SQL)

# every object depends on every header (a dozen small files): a changed
# struct can never leave a stale object behind (after PGXS's rules, so that
# `make` alone still builds all, not the first object)
$(OBJS): $(wildcard src/*.h)
endif

# Regenerated on every build (but rewritten only when it changes), so that a
# checkout whose timestamps make it look newer than src/*.sql is never stale.
$(INSTALL_SQL): FORCE
	@$(SQL_MAKE) > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; echo "generated $@"; fi

.PHONY: FORCE
FORCE:

.PHONY: test demo bench fuzz stress valgrind
test demo bench fuzz stress valgrind:
	PG_CONFIG=$(PG_CONFIG) bash test/run $@

# Checks CI runs beside the suite (test/build-checks): a clang build with
# -Werror, and the pg_regress suite against a build with
# -fsanitize=undefined
.PHONY: check-clang check-ubsan
check-clang check-ubsan:
	PG_CONFIG=$(PG_CONFIG) bash test/build-checks $(subst check-,,$@)

# The README's two commands on bare Debian 13 and 12 machines
# (test/versions/readme-on-bare; root)
.PHONY: test-bare
test-bare:
	bash test/versions/readme-on-bare

# The version matrix: the whole suite on PostgreSQL 17, 18 and 19 (Debian
# chroots, cached in /var/cache/customer_success), then the Debian packages
# built, installed in a clean chroot of each and checked with installcheck
# (test/versions/matrix; root).  MAJORS="18" to run some of them.
.PHONY: test-versions
test-versions:
	bash test/versions/matrix $(MAJORS)

# Debian packages postgresql-<major>-customer-success for each installed
# major (debian/, pg_buildext), in debs/
.PHONY: deb
deb:
	PG_CONFIG=$(PG_CONFIG) bash test/build-deb debs

# Fails when the committed install script is not the one src/*.sql make
.PHONY: check-install-script
check-install-script:
	@$(SQL_MAKE) | cmp -s - $(INSTALL_SQL) || \
		{ echo "$(INSTALL_SQL) is out of date: run make and commit it" >&2; exit 1; }

# Release archive for PGXN: the committed tree at HEAD (git archive; see
# .gitattributes for what is left out), named after default_version in
# customer_success.control, the one place the version is set.  Refuses when
# META.json disagrees with it or the committed install script is not the one
# src/*.sql make.
DIST = $(EXTENSION)-$(EXTVERSION).zip
.PHONY: dist
dist:
	@test -z "$$(git status --porcelain -- src $(INSTALL_SQL) META.json $(EXTENSION).control)" || \
		{ echo "dist: commit src/, $(INSTALL_SQL), META.json and the control file first" >&2; exit 1; }
	@$(MAKE) -s check-install-script
	@/usr/bin/python3 test/check-meta.py .
	git archive --format=zip --prefix=$(EXTENSION)-$(EXTVERSION)/ -o $(DIST) HEAD
