# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Helpers for QEMU boot tests. Source it from bash; see tests/qemu/README.md.
#
# Debian packages: qemu-system-arm (aarch64), qemu-system-x86 (x86_64),
# swtpm, cpio, e2fsprogs, cryptsetup-bin, the UEFI firmware (ovmf,
# qemu-efi-aarch64), plus everything `scripts/deps.sh test` installs; all of
# them in `scripts/deps.sh qemu' (and `all', which make check runs first).
# A test run alone installs what is missing on demand; what still cannot be
# installed is a skip, or with CI=true a failure (qemu_dep_missing).
#
# Every swtpm and qemu started here is recorded by PID and ended by
# qemu_cleanup, which is on the cleanup stack of tests/lib/atexit.sh (run at
# exit, and on INT/TERM). A test never sets a trap: it pushes its own
# cleanup with at_exit, which then runs before qemu_cleanup.
#
# Facts this is built on (docs/DESIGN, measured): no KVM here, TCG only;
# aarch64 `-M virt -cpu cortex-a57` boots in ~1 s; x86_64 needs `-cpu max`
# (AES-NI) or dm-crypt fails; the TPM is swtpm behind QEMU's "emulator"
# backend: QEMU talks to swtpm's control socket and hands it the data
# channel itself (CMD_SET_DATAFD), so swtpm gets no --server.

QEMU_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=${REPO:-$(cd "$QEMU_LIB_DIR/../.." && pwd)}
. "$QEMU_LIB_DIR/../lib/atexit.sh"

QEMU_PIDS=()         # qemu (really: the `timeout` wrapping it) PIDs
QEMU_SWTPM_PIDS=()   # swtpm PIDs
QEMU_TMPDIRS=()      # removed by qemu_cleanup
QEMU_DISK_ARGS=()    # filled by qemu_disk, consumed by qemu_start
QEMU_TPM_SOCK=""     # set by qemu_swtpm_start; qemu_start attaches it
QEMU_TIMEOUT=${QEMU_TIMEOUT:-120}   # seconds, per qemu run
QEMU_MEM=${QEMU_MEM:-512}
# Guest CPUs: one for the tests, which run two guests side by side on two
# cores; bench/boot gives more (SMP=).
QEMU_SMP=${QEMU_SMP:-1}
# QEMU_CPU overrides the CPU model (default: cortex-a57 / max).
QEMU_START_TIME=""   # $EPOCHREALTIME when the last qemu_start ran
# QEMU_FIRMWARE=uefi boots through Debian's UEFI firmware (OVMF on x86_64,
# AAVMF on aarch64, with TPM 2.0 support) instead of loading the kernel
# directly: the firmware starts the kernel's EFI stub, and both measure what
# they load into the TPM. Unset (the default): direct boot, unchanged.
# QEMU_UEFI_CODE / QEMU_UEFI_VARS override the firmware image and the
# variable store template. Each boot gets its own copy of the template in
# QEMU_WORK (removed by qemu_cleanup), so no boot sees variables another
# boot wrote; for a reboot of the same machine, pass the last boot's copy
# (QEMU_UEFI_VARS_COPY) as QEMU_UEFI_VARS.
QEMU_FIRMWARE=${QEMU_FIRMWARE:-}
QEMU_UEFI_N=0           # counts the copies, for unique names
QEMU_UEFI_VARS_COPY=""  # the last UEFI boot's variable store (for a reboot)

qemu_log() { echo "qemu: $*" >&2; }

# qemu_need ARCH: make sure qemu-system for ARCH, swtpm and friends exist.
# Returns 1 (so the caller can skip) when that qemu cannot be installed.
qemu_need() {
	local bin pkg
	case "$1" in
	aarch64) bin=qemu-system-aarch64 pkg=qemu-system-arm ;;
	x86_64)  bin=qemu-system-x86_64  pkg=qemu-system-x86 ;;
	*) qemu_log "unknown arch $1"; return 2 ;;
	esac
	"$REPO/scripts/deps.sh" test >&2 || return 1
	_qemu_pkgs "$pkg" cpio e2fsprogs cryptsetup-bin swtpm || true
	if [ "$QEMU_FIRMWARE" = uefi ]; then
		case "$1" in aarch64) _qemu_pkgs qemu-efi-aarch64 ;; *) _qemu_pkgs ovmf ;; esac || true
		_qemu_uefi_files "$1" || return 1
	fi
	command -v "$bin" >/dev/null 2>&1
}
# Install the named packages that are not installed yet (idempotent; no
# network when nothing is missing).
_qemu_pkgs() {
	local p missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	qemu_log "installing$missing (scripts/deps.sh all installs them before the tests)"
	local lock=(-o "DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT:-600}")
	DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
		{ apt-get "${lock[@]}" update -qq >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -qq --no-install-recommends $missing >/dev/null 2>&1; }
}

# qemu_dep_missing WHAT: a piece of the test machine is missing (a qemu, a
# firmware, a tool). Prints "SKIP  WHAT" and exits 77; with CI=true prints
# "FAIL  WHAT" and exits 1 instead: in CI every dependency was installed
# before the first test (make check runs scripts/deps.sh all), so a missing
# one is a broken machine, and a skip would hide the tests that need it.
qemu_dep_missing() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL  $* (CI=true: a missing test dependency fails; scripts/deps.sh all installs it)"
		exit 1
	fi
	echo "SKIP  $*"
	exit 77
}

# QEMU_WORK: this test's scratch directory under $TMPDIR, made when lib.sh
# is sourced (in the main shell, so that cleanup knows it) and removed by
# qemu_cleanup unless QEMU_KEEP is set. qemu_cleanup (defined below) is
# pushed first, so it runs after every cleanup the test pushes.
at_exit qemu_cleanup
QEMU_WORK=$(mktemp -d "${TMPDIR:-/tmp}/sealinit-qemu.XXXXXX") || { qemu_log "mktemp failed"; exit 1; }
QEMU_TMPDIRS+=("$QEMU_WORK")

# qemu_deb_root DEBARCH PKG...: unpack target-arch .debs (not installed) into
# build/debs/DEBARCH/root and echo that path. For tools the guest needs that
# the host has only for its own arch (cryptsetup-bin:arm64, libpopt0:arm64).
qemu_deb_root() {
	local arch=$1 cache p f
	shift
	cache=$REPO/build/debs/$arch
	mkdir -p "$cache/deb" "$cache/root"
	for p in "$@"; do
		[ -f "$cache/deb/.have-$p" ] && continue
		(cd "$cache/deb" &&
			{ apt-get download -qq -o APT::Sandbox::User=root "$p:$arch" >/dev/null 2>&1 ||
			  { apt-get update -qq >/dev/null 2>&1 &&
			    apt-get download -qq -o APT::Sandbox::User=root "$p:$arch" >/dev/null 2>&1; }; }) ||
			{ qemu_log "cannot download $p:$arch"; return 1; }
		f=$(ls -t "$cache/deb/${p}_"*"_$arch.deb" 2>/dev/null | head -n1)
		[ -n "$f" ] || { qemu_log "no .deb for $p:$arch"; return 1; }
		dpkg-deb -x "$f" "$cache/root"
		touch "$cache/deb/.have-$p"
	done
	echo "$cache/root"
}

# qemu_swtpm_start STATEDIR: swtpm for a VM, on a unix control socket in
# STATEDIR. Sets QEMU_TPM_SOCK, which the next qemu_start attaches.
# No startup flag: like real hardware, the firmware (SeaBIOS on x86) or the
# kernel (tpm2_auto_startup on arm64 virt) sends TPM2_Startup itself.
# --terminate: swtpm exits when QEMU closes the connection.
qemu_swtpm_start() {
	local dir=$1 _ pid
	mkdir -p "$dir"
	QEMU_TPM_SOCK=$dir/swtpm.sock
	rm -f "$QEMU_TPM_SOCK"
	swtpm socket --tpm2 --tpmstate dir="$dir" \
		--ctrl type=unixio,path="$QEMU_TPM_SOCK" --terminate \
		--log file="$dir/swtpm.log",level=1 >/dev/null 2>&1 </dev/null &
	pid=$!
	QEMU_SWTPM_PIDS+=("$pid")
	# Up to 20 s: make check runs host tests and builds beside the QEMU
	# suites, and a loaded machine once took longer than 5 s.
	for _ in $(seq 1 400); do
		[ -S "$QEMU_TPM_SOCK" ] && return 0
		_qemu_alive "$pid" || break
		sleep 0.05
	done
	if _qemu_alive "$pid"; then
		qemu_log "swtpm did not come up within 20 s (log: $dir/swtpm.log)"
	else
		qemu_log "swtpm exited before it came up: $(tail -n 3 "$dir/swtpm.log" 2>/dev/null | tr '\n' ' ')"
	fi
	return 1
}

# qemu_swtpm_tcp STATEDIR: swtpm on 127.0.0.1 TCP ports over the same state
# directory, for host-side `sealinit enroll` against the TPM a VM will boot
# with. Exports SEALINIT_TCTI. Stop it with qemu_swtpm_stop before the VM's
# swtpm starts (the state directory is locked while one runs).
QEMU_SWTPM_TCP_PID=""
qemu_swtpm_tcp() {
	local dir=$1 port _ pid
	mkdir -p "$dir"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		port=$(( 20000 + (RANDOM % 20000) * 2 ))
		swtpm socket --tpm2 --tpmstate dir="$dir" \
			--server type=tcp,port=$port,bindaddr=127.0.0.1 \
			--ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
			--flags not-need-init,startup-clear \
			--log file="$dir/swtpm-tcp.log",level=1 >/dev/null 2>&1 </dev/null &
		pid=$!
		QEMU_SWTPM_PIDS+=("$pid")
		for _ in $(seq 1 50); do
			_qemu_alive "$pid" || break
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				QEMU_SWTPM_TCP_PID=$pid
				export SEALINIT_TCTI="swtpm:host=127.0.0.1,port=$port"
				export TPM2TOOLS_TCTI=$SEALINIT_TCTI
				return 0
			fi
			sleep 0.1
		done
		_qemu_stop_pid "$pid"
	done
	qemu_log "could not start a TCP swtpm on $dir"
	return 1
}

# qemu_swtpm_stop [PID]: stop one swtpm (default: the TCP one) and wait, so
# that its state is on disk and the directory is free again.
qemu_swtpm_stop() {
	local pid=${1:-$QEMU_SWTPM_TCP_PID}
	[ -n "$pid" ] || return 0
	_qemu_stop_pid "$pid"
	_qemu_forget QEMU_SWTPM_PIDS "$pid"
	[ "$pid" != "$QEMU_SWTPM_TCP_PID" ] || { QEMU_SWTPM_TCP_PID=""; unset SEALINIT_TCTI TPM2TOOLS_TCTI; }
}

# Our children stay zombies until waited for, so "alive" must look at the
# process state, not just whether kill -0 succeeds (it does on a zombie).
_qemu_alive() {
	local st
	st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}
# _qemu_forget ARRAY PID: drop a reaped PID from ARRAY, so that cleanup never
# signals a later process that reuses the number (a test running many VMs
# reaps many PIDs).
_qemu_forget() {
	local -n _arr=$1
	local p keep=()
	for p in "${_arr[@]}"; do [ "$p" = "$2" ] || keep+=("$p"); done
	_arr=("${keep[@]}")
}
_qemu_stop_pid() {
	local pid=$1 _
	if _qemu_alive "$pid"; then
		kill "$pid" 2>/dev/null
		for _ in $(seq 1 40); do
			_qemu_alive "$pid" || break
			sleep 0.05
		done
		_qemu_alive "$pid" && kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null || true
}

# qemu_disk FILE [ro] [SERIAL]: add a virtio-blk-pci disk. Disks appear in
# the guest in the order added: vda, vdb, vdc... (PCI slots are assigned in
# command-line order and virtio_blk probes them in slot order). The serial
# shows in /sys/block/vdX/serial, which helps when reading a failed log.
qemu_disk() {
	local file=$1 ro=${2:-} serial=${3:-} n=${#QEMU_DISK_ARGS[@]} opt=""
	[ "$ro" = ro ] && opt=",readonly=on"
	n=$((n / 4))
	QEMU_DISK_ARGS+=(-drive "file=$file,if=none,id=disk$n,format=raw$opt"
		-device "virtio-blk-pci,drive=disk$n${serial:+,serial=$serial}")
}
qemu_disks_clear() { QEMU_DISK_ARGS=(); }

# qemu_console ARCH: the kernel console argument for ARCH's serial port.
# qemu_predict SEALINIT CONF CMDLINE [ROOTFS]: what a boot of the test
# rootfs (whose /sbin/init is guest-init) with the initramfs config CONF
# and the kernel command line CMDLINE will measure, by `SEALINIT predict'
# (a host build of the guest's .config): QEMU_EVENTS, PCR 15's events in
# order, and QEMU_PREDICTED, PCR 15 after the cap. ROOTFS: for
# measure=image. Prints predict's words on failure.
qemu_predict() {
	local out
	out=$(timeout 60 "$1" predict --config "$2" --cmdline "$3" \
		--init "$QEMU_LIB_DIR/guest-init" ${4:+--rootfs "$4"} 2>&1) ||
		{ echo "predict: $out" >&2; return 1; }
	mapfile -t QEMU_EVENTS < <(sed -n 's/^15 //p' <<<"$out")
	QEMU_PREDICTED=$(sed -n 's/^pcr15-capped=//p' <<<"$out")
	[ ${#QEMU_EVENTS[@]} -ge 4 ] && [ -n "$QEMU_PREDICTED" ] ||
		{ echo "predict printed: $out" >&2; return 1; }
}

# qemu_enroll_events SEALINIT TPMDIR DATAIMG KEYFILE EVENT...: a fresh swtpm
# state in TPMDIR, with each EVENT extended into PCR 15 as the boot will,
# and DATAIMG enrolled against it (PCR 15) with the passphrase in KEYFILE.
qemu_enroll_events() {
	local bin=$1 tdir=$2 img=$3 key=$4 out="" e rc=0
	shift 4
	rm -rf "$tdir"
	qemu_swtpm_tcp "$tdir" || return 1
	for e in "$@"; do
		out=$(timeout 60 "$bin" measure --pcr 15 --string "$e" 2>&1) || { rc=1; break; }
	done
	[ $rc != 0 ] || out=$(timeout 60 "$bin" enroll "$img" --key-file "$key" --pcrs 15 2>&1)
	rc=$?
	qemu_swtpm_stop
	rm -f "$tdir/swtpm-tcp.log" "$tdir/.lock"
	[ $rc = 0 ] || { echo "enroll: $out" >&2; return 1; }
}

# qemu_arch_children SCRIPT ARCHES [ARG...]: run `SCRIPT ARCH ARG...' for
# each arch in ARCHES side by side (QEMU TCG runs one vCPU on one core, and
# this machine kind has two), with BOOT_PARALLEL=0 in their environment;
# then print each child's lines but its summary, in arch order, and add its
# summary's counts to NPASS, NFAIL and NSKIP (a child that printed none is
# one failure). The children are ended by qemu_cleanup if this shell is.
qemu_arch_children() {
	local script=$1 arches=$2 a rc line p f k
	local -A pid
	shift 2
	for a in $arches; do
		BOOT_PARALLEL=0 bash "$script" "$a" "$@" >"$QEMU_WORK/$a.out" 2>&1 </dev/null &
		pid[$a]=$!
		QEMU_HELPER_PIDS+=("$!")
	done
	for a in $arches; do
		rc=0
		wait "${pid[$a]}" || rc=$?
		_qemu_forget QEMU_HELPER_PIDS "${pid[$a]}"
		grep -v -E '^[0-9]+ passed, [0-9]+ failed' "$QEMU_WORK/$a.out"
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$QEMU_WORK/$a.out" | tail -n1)
		if [ -z "$line" ]; then
			echo "FAIL  $a: $(basename "$script") ended with no summary (exit $rc)"
			NFAIL=$((NFAIL + 1))
			continue
		fi
		read -r p _ f _ k _ <<<"${line//,/}"
		NPASS=$((NPASS + p)) NFAIL=$((NFAIL + f)) NSKIP=$((NSKIP + ${k:-0}))
	done
}

# sha256 of hex-encoded bytes, in hex (pure bash + coreutils).
sha256_hex() { printf "$(echo "$1" | sed 's/../\\x&/g')" | sha256sum | cut -c1-64; }
sha256_str() { printf '%s' "$1" | sha256sum | cut -c1-64; }
# The PCR 15 value after `extend EVENT...` from zero: H(old || H(event)).
predict_pcr() {
	local v=0000000000000000000000000000000000000000000000000000000000000000 e
	for e in "$@"; do v=$(sha256_hex "$v$(sha256_str "$e")"); done
	echo "$v"
}

qemu_console() {
	case "$1" in aarch64) echo console=ttyAMA0 ;; *) echo console=ttyS0 ;; esac
}

# _qemu_uefi_files ARCH: set QEMU_UEFI_CODE_F and QEMU_UEFI_VARS_F to ARCH's
# firmware and variable store template; 1 if either is missing. Debian's
# non-secure-boot builds: OVMF_CODE_4M.fd needs no SMM, so it runs on -M pc.
_qemu_uefi_files() {
	case "$1" in
	aarch64) QEMU_UEFI_CODE_F=${QEMU_UEFI_CODE:-/usr/share/AAVMF/AAVMF_CODE.fd}
	         QEMU_UEFI_VARS_F=${QEMU_UEFI_VARS:-/usr/share/AAVMF/AAVMF_VARS.fd} ;;
	*)       QEMU_UEFI_CODE_F=${QEMU_UEFI_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
	         QEMU_UEFI_VARS_F=${QEMU_UEFI_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd} ;;
	esac
	[ -f "$QEMU_UEFI_CODE_F" ] && [ -f "$QEMU_UEFI_VARS_F" ] ||
		{ qemu_log "no UEFI firmware $QEMU_UEFI_CODE_F / $QEMU_UEFI_VARS_F"; return 1; }
}

# qemu_start ARCH KERNEL INITRD APPEND LOG [extra qemu args...]
# Boots in the background under `timeout $QEMU_TIMEOUT`; sets QEMU_PID.
# Serial output goes to LOG. -no-reboot turns the guest's reboot, and the
# kernel's panic=-1 reboot, into a QEMU exit, so a dead guest never loops;
# `poweroff -f` ends QEMU on both machines (PSCI on arm64 virt, ACPI on pc).
qemu_start() {
	local arch=$1 kernel=$2 initrd=$3 append=$4 log=$5 bin tpmdev
	shift 5
	local -a m
	case "$arch" in
	aarch64) bin=qemu-system-aarch64; m=(-M virt -cpu "${QEMU_CPU:-cortex-a57}"); tpmdev=tpm-tis-device ;;
	x86_64)  bin=qemu-system-x86_64;  m=(-M pc -cpu "${QEMU_CPU:-max}");          tpmdev=tpm-tis ;;
	*) qemu_log "unknown arch $arch"; return 2 ;;
	esac
	local -a tpm=()
	if [ -n "$QEMU_TPM_SOCK" ]; then
		tpm=(-chardev "socket,id=chrtpm,path=$QEMU_TPM_SOCK"
			-tpmdev emulator,id=tpm0,chardev=chrtpm
			-device "$tpmdev,tpmdev=tpm0")
	fi
	local -a fw=()
	if [ "$QEMU_FIRMWARE" = uefi ]; then
		_qemu_uefi_files "$arch" || return 1
		QEMU_UEFI_N=$((QEMU_UEFI_N + 1))
		QEMU_UEFI_VARS_COPY=$QEMU_WORK/uefi-vars.$BASHPID.$QEMU_UEFI_N.fd
		cp --sparse=always "$QEMU_UEFI_VARS_F" "$QEMU_UEFI_VARS_COPY" || return 1
		fw=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$QEMU_UEFI_CODE_F"
			-drive "if=pflash,format=raw,unit=1,file=$QEMU_UEFI_VARS_COPY")
	fi
	: >"$log"
	# QEMU_SERIAL_ANSWERS=FILE: the console is a socket instead of a file,
	# and tests/qemu/serial-answer.py logs it to LOG and types each answer
	# of FILE ("TEXT<TAB>ANSWER" lines) once TEXT has appeared.
	local -a serial=(-serial "file:$log")
	if [ -n "${QEMU_SERIAL_ANSWERS:-}" ]; then
		serial=(-chardev "socket,id=con0,path=$log.sock,server=on,wait=on" -serial chardev:con0)
		rm -f "$log.sock"
	fi
	QEMU_START_TIME=$EPOCHREALTIME
	# -nodefaults: no VGA, NIC, floppy or CD-ROM to probe; a test that wants
	# the network adds -netdev user,... itself.
	timeout --signal=TERM --kill-after=5 "$QEMU_TIMEOUT" \
		"$bin" "${m[@]}" -m "$QEMU_MEM" -smp "$QEMU_SMP" -accel tcg \
		-nodefaults -display none -monitor none "${serial[@]}" \
		-no-reboot -kernel "$kernel" ${initrd:+-initrd "$initrd"} \
		-append "$(qemu_console "$arch") panic=-1 $append" \
		"${fw[@]}" "${tpm[@]}" "${QEMU_DISK_ARGS[@]}" "$@" </dev/null >>"$log.qemu" 2>&1 &
	QEMU_PID=$!
	QEMU_PIDS+=("$QEMU_PID")
	if [ -n "${QEMU_SERIAL_ANSWERS:-}" ]; then
		timeout "$QEMU_TIMEOUT" /usr/bin/python3 "$QEMU_LIB_DIR/serial-answer.py" "$log.sock" "$log" \
			"$QEMU_SERIAL_ANSWERS" 2>>"$log.qemu" &
		QEMU_HELPER_PIDS+=($!)
	fi
}

# qemu_wait [PID]: wait for a qemu_start'ed QEMU; returns its exit status
# (124 when `timeout` had to kill it).
qemu_wait() {
	local pid=${1:-$QEMU_PID} rc=0
	wait "$pid" || rc=$?
	_qemu_forget QEMU_PIDS "$pid"
	return $rc
}

# qemu_run ARCH KERNEL INITRD APPEND LOG [extra args]: qemu_start + qemu_wait.
qemu_run() {
	qemu_start "$@" || return $?
	qemu_wait "$QEMU_PID"
}

# qemu_expect LOG REGEX [TIMEOUT]: wait until LOG has a line matching REGEX
# (grep -E) while the last QEMU runs. Sets QEMU_EXPECT_T to the seconds since
# qemu_start at which it was seen (50 ms resolution). Returns 1 if QEMU ended
# or TIMEOUT passed first. Call it directly, not in $(...): in the main shell
# INT/TERM (the cleanup stack) act within 50 ms instead of after the wait.
QEMU_EXPECT_T=""
qemu_expect() {
	local log=$1 re=$2 limit=${3:-$QEMU_TIMEOUT} t0=${QEMU_START_TIME:-$EPOCHREALTIME}
	local deadline=$(( ${t0%.*} + limit ))
	QEMU_EXPECT_T=""
	while :; do
		if grep -aqE -- "$re" "$log" 2>/dev/null; then
			QEMU_EXPECT_T=$(qemu_elapsed "$t0" "$EPOCHREALTIME")
			return 0
		fi
		if ! _qemu_alive "$QEMU_PID"; then
			grep -aqE -- "$re" "$log" 2>/dev/null || return 1
			QEMU_EXPECT_T=$(qemu_elapsed "$t0" "$EPOCHREALTIME")
			return 0
		fi
		[ "${EPOCHREALTIME%.*}" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}
qemu_elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b - a }'; }

# qemu_grep LOG REGEX: after the run, 0 if a line matches (for assertions).
qemu_grep() { grep -aqE -- "$2" "$1"; }
# qemu_value LOG KEY: the value of the last "KEY=value" on a marker line,
# e.g. qemu_value LOG 'SEALINIT-TEST: marker' -> the marker text.
# Kernel messages may share a serial line with ours, so match anywhere.
qemu_value() { grep -aoE -- "$2=[^[:space:]]*" "$1" | tail -n1 | sed "s/^$2=//"; }

# qemu_cleanup: end every QEMU, swtpm and helper server started here (by
# PID; a test adds its servers to QEMU_HELPER_PIDS), remove temp dirs. Safe
# to call twice.
QEMU_HELPER_PIDS=()
qemu_cleanup() {
	local pid d
	for pid in "${QEMU_PIDS[@]}"; do _qemu_stop_pid "$pid"; done
	for pid in "${QEMU_SWTPM_PIDS[@]}"; do _qemu_stop_pid "$pid"; done
	for pid in "${QEMU_HELPER_PIDS[@]}"; do _qemu_stop_pid "$pid"; done
	QEMU_PIDS=() QEMU_SWTPM_PIDS=() QEMU_HELPER_PIDS=()
	if [ -z "${QEMU_KEEP:-}" ]; then
		for d in "${QEMU_TMPDIRS[@]}"; do rm -rf "$d"; done
	else
		for d in "${QEMU_TMPDIRS[@]}"; do qemu_log "kept $d"; done
	fi
	QEMU_TMPDIRS=()
}

# volume_id IMAGE KEYFILE NAME: the LUKS2 volume's id as sealinit and
# systemd compute it (src/core/volkey.h): lower-case hex of
# HMAC-SHA256(volume key, "cryptsetup:NAME:UUID"), NAME without ':' or '\\'.
volume_id() {
	local vk uuid
	uuid=$(cryptsetup luksUUID "$1") || return 1
	vk=$(cryptsetup luksDump --dump-volume-key --batch-mode --key-file "$2" "$1" 2>/dev/null |
		sed -n '/^MK dump:/,/^$/p;/^Volume key:/,/^$/p' | grep -oE '([0-9a-f]{2} ?)+' | tr -d ' \n') || return 1
	[ ${#vk} -ge 64 ] || return 1
	printf 'cryptsetup:%s:%s' "$3" "$uuid" |
		openssl dgst -sha256 -mac HMAC -macopt "hexkey:$vk" | sed 's/^.*= //'
}
