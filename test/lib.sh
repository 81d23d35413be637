# test/lib.sh: sourced by the harness scripts (test/run, test/packages,
# test/with-cluster, test/build-deb, test/private-pg, test/versions/*,
# test/demo/run), after `set -euo pipefail`.
#
# Never fail in silence: a command that fails under `set -e` ends the script
# with its name, line and exit code, the step the script was in and, where
# the failure is one a user can meet (no network to the package archive, no
# sudo, no server headers, a disk full), what to do about it.  A script
# names its steps with `cs_step "what it does" ["what to do if it fails"]`.
# Command substitutions in assignments (`x=$(a | b)`) end the script too
# when any command of the pipeline fails: use the helpers below, which
# cannot fail for want of something, instead of `ls ... | sort | tail` and
# the like.

cs_me=${cs_me:-${0##*/}}
cs_step_now="starting"
cs_step_hint=""

cs_step() {
	cs_step_now=$1
	cs_step_hint=${2:-}
}

# free space, in MB, of the file system holding $1 (empty when unknown)
cs_free_mb() {
	df -Pm "$1" 2>/dev/null | awk 'NR == 2 { print $4 }' || true
}

cs_on_error() {
	local rc=$1 line=$2 cmd=$3 d free
	# in a subshell ($(...), ( ... )) the failure is the caller's to report:
	# its own command fails in turn, and the trap fires there
	if [ "$BASH_SUBSHELL" -gt 0 ]; then
		exit "$rc"
	fi
	trap - ERR
	echo >&2
	echo "$cs_me: FAILED while $cs_step_now (exit $rc at line $line: $cmd)" >&2
	if [ -n "$cs_step_hint" ]; then
		echo "$cs_me: $cs_step_hint" >&2
	fi
	for d in . /tmp /var/cache/apt/archives; do
		free=$(cs_free_mb "$d")
		if [ -n "$free" ] && [ "$free" -lt 300 ]; then
			echo "$cs_me: only $free MB free on the file system of $d: free some disk space and run it again" >&2
			break
		fi
	done
	exit "$rc"
}
set -o errtrace
trap 'cs_on_error $? $LINENO "$BASH_COMMAND"' ERR

cs_die() {
	trap - ERR
	echo "$cs_me: $*" >&2
	exit 1
}

# root runs it, others through sudo (which must exist and be allowed)
cs_sudo() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		if ! sudo -n true 2>/dev/null && ! [ -t 0 ]; then
			cs_die "this step needs root ($*), and this user cannot use sudo here without a password: run it as root, or as a user allowed to use sudo"
		fi
		sudo "$@"
	else
		cs_die "this step needs root ($*), and sudo is not installed: run it as root, or install sudo and allow this user to use it"
	fi
}

# the majors of Debian's PostgreSQL servers installed here, oldest first
# (none: empty); never fails
cs_installed_majors() {
	local f
	for f in /usr/lib/postgresql/*/bin/postgres; do
		[ -x "$f" ] || continue
		f=${f#/usr/lib/postgresql/}
		echo "${f%%/*}"
	done | sort -n
}

# the major of a pg_config (PostgreSQL 17.2 -> 17)
cs_major_of() {
	local v
	v=$("$1" --version) || cs_die "$1 --version failed: is PG_CONFIG a pg_config of a PostgreSQL installation?"
	v=${v#PostgreSQL }
	echo "${v%%[!0-9]*}"
}

# dies with a sentence when output $1 says sudo refused this user
cs_no_sudo() {
	if grep -qE 'not in the sudoers file|not allowed to execute|a password is required|incorrect password attempt' <<<"$1"; then
		cs_die "sudo refused to run apt-get for this user: run it as root, or as a user allowed to use sudo (or install the packages yourself: test/packages MAJOR MODE lists them)"
	fi
}

# apt-get update, with a sentence when the archive cannot be reached
cs_apt_update() {
	local out
	if ! out=$(cs_sudo apt-get update 2>&1); then
		printf '%s\n' "$out" | tail -5 >&2
		cs_no_sudo "$out"
		cs_die "apt-get update failed: the package lists could not be downloaded. Check the network and the package sources (/etc/apt/sources.list and /etc/apt/sources.list.d/)${1:+, or $1}"
	fi
	if grep -qE '^(W|E): (Failed to fetch|Some index files failed)' <<<"$out"; then
		printf '%s\n' "$out" | grep -E '^(W|E):' | tail -5 >&2
		cs_die "apt-get update could not download every package list: check the network and the package sources (/etc/apt/sources.list and /etc/apt/sources.list.d/)${1:+, or $1}"
	fi
}

# apt-get install PACKAGES..., with a sentence when it cannot
cs_apt_install() {
	local out
	if ! out=$(cs_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		-o DPkg::Lock::Timeout=600 --no-install-recommends "$@" 2>&1); then
		printf '%s\n' "$out" | tail -15 >&2
		cs_no_sudo "$out"
		if grep -q 'No space left on device' <<<"$out"; then
			cs_die "apt-get install failed: the disk is full. Free some space and run it again."
		elif grep -qE 'Failed to fetch|Temporary failure resolving|Could not connect|Unable to connect' <<<"$out"; then
			cs_die "apt-get could not download $*: check the network and the package sources (/etc/apt/sources.list and /etc/apt/sources.list.d/)"
		elif grep -q 'dpkg was interrupted' <<<"$out"; then
			cs_die "apt-get install failed: an earlier installation was interrupted. Run 'sudo dpkg --configure -a', then this again."
		fi
		cs_die "apt-get install $* failed (its last lines are above)"
	fi
}
