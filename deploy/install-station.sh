#!/usr/bin/env bash
# Install a Shipgate station (bench gate) on Raspberry Pi OS / Debian.
#
#   sudo deploy/install-station.sh --server-url https://shipgate.example.com --token-file /root/token \
#        --name bench-01 --scanner /dev/scanner --printer-kind usb --printer-vid 04b8 --printer-pid 0e15
#
# Run without flags for prompts. What it does, in order:
#   1. Debian packages the station needs (python3-venv, libusb-1.0-0), unless --no-apt.
#   2. System user `shipgate-station` in groups dialout, lp and input; data dir /var/lib/shipgate-station.
#   3. A venv in /opt/shipgate-station with ONLY the station extra: pip install 'SOURCE[station]'.
#   4. /etc/shipgate/station.toml (mode 0640, root:shipgate-station); an existing one is backed up,
#      or kept with --keep-config.
#   5. udev rules (/etc/udev/rules.d/99-shipgate.rules; an edited one is kept, the new one goes
#      beside it as .new).
#   6. The bench's alarms and its clock: the kiosk screen (cage + Chromium on tty1, unless
#      --no-kiosk), the voice prompts (espeak-ng into DATA_DIR/voice), chrony with the server as
#      the LAN time source, and the hardware watchdog (RuntimeWatchdogSec=15s).
#   7. The unit (/etc/systemd/system/shipgate-station.service; local changes belong in
#      `systemctl edit shipgate-station` drop-ins); enables and (re)starts the service (and the kiosk).
#
# --prefix DIR puts every file under DIR and touches nothing else: no user, no apt, no udev reload,
# no systemctl (for tests and image staging; a venv built under a prefix has that prefix baked in).
# Files keep the paths of the target system inside them (/etc/shipgate/station.toml, /var/lib/...).
set -euo pipefail

PROG=${0##*/}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

STATION_USER=shipgate-station
CONFIG_PATH=/etc/shipgate/station.toml
UNIT_PATH=/etc/systemd/system/shipgate-station.service
RULES_PATH=/etc/udev/rules.d/99-shipgate.rules
DEFAULT_VENV=/opt/shipgate-station
DEFAULT_DATA_DIR=/var/lib/shipgate-station
KIOSK_USER=shipgate-kiosk
KIOSK_UNIT_PATH=/etc/systemd/system/shipgate-kiosk.service
WATCHDOG_CONF_PATH=/etc/systemd/system.conf.d/shipgate-watchdog.conf
CHRONY_CONF_PATH=/etc/chrony/conf.d/shipgate.conf
CA_PATH=/etc/shipgate/ca.pem

usage() {
    cat <<EOF
Usage: $PROG [options]

Server
  --server-url URL        the Shipgate server, e.g. https://shipgate.example.com        (required)
  --token TOKEN           station token from 'shipgate-server station add NAME'         (required)
  --token-file FILE       read the token from FILE instead (keeps it out of ps and shell history);
                          or set SHIPGATE_STATION_TOKEN in the environment
  --budget-ms N           time the bench waits for the server before deciding offline   [300]
  --ca-file FILE          PEM of the private CA that signed the server's certificate; copied to
                          /etc/shipgate/ca.pem and named in [server] ca_file
  --insecure-http         allow an http:// server on another machine (the token travels in clear;
                          only on a trusted network): [server] insecure_http = true

Station
  --name NAME             station name as registered on the server                    [hostname]
  --mode bench|handover   packing bench, or courier handover point                       [bench]
  --data-dir DIR          journal + replica (must be writable, also on a read-only root)
                                                                       [$DEFAULT_DATA_DIR]
  --replica-max-age S     seconds an offline replica may be old before scans HOLD  [station default]

Scanner
  --scanner DEV           /dev/scanner, /dev/ttyACM0, auto, or VID:PID like 1eab:8203     [auto]
  --scanner-baud N        serial speed (USB-CDC ignores it)                               [9600]
  --scanner-suffix S      CR | LF | CRLF | none, as set on the scanner                      [CR]

Printer
  --printer-kind K        usb | serial | network | file | dummy                        (required)
  --printer-vid HEX       usb: vendor id, e.g. 04b8
  --printer-pid HEX       usb: product id, e.g. 0e15
  --printer-host HOST     network: printer address
  --printer-port N        network: TCP port                                               [9100]
  --printer-device DEV    serial: e.g. /dev/receipt-printer or /dev/ttyUSB0
  --printer-baud N        serial: speed set by the printer's DIP switches          [station default]
  --printer-path PATH     file: e.g. /dev/receipt-printer or /dev/usb/lp0
  --printer-width MM      paper width, 58 or 80                                            [80]

Installation
  --source PATH           repo checkout or shipgate-*.whl to install   [the checkout holding this script]
  --venv DIR              where the station venv goes                          [$DEFAULT_VENV]
  --python EXE            interpreter for the venv (3.11 or newer)                      [python3]
  --offline               pip without the network: --no-index --no-build-isolation
  --wheelhouse DIR        pip --find-links DIR (dependencies as wheels, for offline installs)
  --pip-args "ARGS"       extra arguments for pip install
  --skip-pip              do not create the venv or run pip (config, unit and rules only)
  --keep-config           keep an existing $CONFIG_PATH (for upgrades)
  --prefix DIR            install everything under DIR; change nothing on this system
  --no-systemd            do not run systemctl (the unit file is still written)
  --no-udev               do not install udev rules
  --no-apt                do not install Debian packages

Bench alarms and clock
  --no-kiosk              no bench screen on HDMI (no cage, Chromium, CJK font, kiosk unit)
  --voice                 speak zh-CN prompts ([voice] enabled = true; needs a speaker)
  --light DEV             a USB-serial tower light, e.g. /dev/tower-light ([light] kind = "serial")
  --time-server HOST      the stations' NTP source (chrony)                   [the server URL's host]
  --no-chrony             leave time synchronisation alone
  --no-watchdog           do not turn on the hardware watchdog
  -y, --yes               never prompt; fail if a required value is missing
  -h, --help              this help
EOF
}

die() { echo "$PROG: error: $*" >&2; exit 2; }
say() { echo "==> $*"; }
run() { echo "+ $*"; "$@"; }

# ---------------------------------------------------------------------------------------------------------
# Options
SERVER_URL="" TOKEN="" TOKEN_FILE="" BUDGET_MS=300 CA_FILE="" INSECURE_HTTP=0
NAME="" MODE=bench DATA_DIR=$DEFAULT_DATA_DIR REPLICA_MAX_AGE=""
SCANNER="" SCANNER_BAUD=9600 SCANNER_SUFFIX=CR
PRINTER_KIND="" PRINTER_VID="" PRINTER_PID="" PRINTER_HOST="" PRINTER_PORT=9100
PRINTER_DEVICE="" PRINTER_BAUD="" PRINTER_PATH="" PRINTER_WIDTH=80
SOURCE="" VENV=$DEFAULT_VENV PYTHON=python3 OFFLINE=0 WHEELHOUSE="" PIP_ARGS="" SKIP_PIP=0
KEEP_CONFIG=0 PREFIX="" NO_SYSTEMD=0 NO_UDEV=0 NO_APT=0 ASSUME_YES=0
NO_KIOSK=0 VOICE=0 LIGHT_DEVICE="" TIME_SERVER="" NO_CHRONY=0 NO_WATCHDOG=0

need_arg() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
    opt=$1
    case $opt in
        --*=*) set -- "${opt%%=*}" "${opt#*=}" "${@:2}"; continue ;;
    esac
    case $opt in
        --server-url) need_arg "$@"; SERVER_URL=$2; shift 2 ;;
        --token) need_arg "$@"; TOKEN=$2; shift 2 ;;
        --token-file) need_arg "$@"; TOKEN_FILE=$2; shift 2 ;;
        --budget-ms) need_arg "$@"; BUDGET_MS=$2; shift 2 ;;
        --ca-file) need_arg "$@"; CA_FILE=$2; shift 2 ;;
        --insecure-http) INSECURE_HTTP=1; shift ;;
        --name) need_arg "$@"; NAME=$2; shift 2 ;;
        --mode) need_arg "$@"; MODE=$2; shift 2 ;;
        --data-dir) need_arg "$@"; DATA_DIR=$2; shift 2 ;;
        --replica-max-age) need_arg "$@"; REPLICA_MAX_AGE=$2; shift 2 ;;
        --scanner) need_arg "$@"; SCANNER=$2; shift 2 ;;
        --scanner-baud) need_arg "$@"; SCANNER_BAUD=$2; shift 2 ;;
        --scanner-suffix) need_arg "$@"; SCANNER_SUFFIX=$2; shift 2 ;;
        --printer-kind) need_arg "$@"; PRINTER_KIND=$2; shift 2 ;;
        --printer-vid) need_arg "$@"; PRINTER_VID=$2; shift 2 ;;
        --printer-pid) need_arg "$@"; PRINTER_PID=$2; shift 2 ;;
        --printer-host) need_arg "$@"; PRINTER_HOST=$2; shift 2 ;;
        --printer-port) need_arg "$@"; PRINTER_PORT=$2; shift 2 ;;
        --printer-device) need_arg "$@"; PRINTER_DEVICE=$2; shift 2 ;;
        --printer-baud) need_arg "$@"; PRINTER_BAUD=$2; shift 2 ;;
        --printer-path) need_arg "$@"; PRINTER_PATH=$2; shift 2 ;;
        --printer-width) need_arg "$@"; PRINTER_WIDTH=$2; shift 2 ;;
        --source) need_arg "$@"; SOURCE=$2; shift 2 ;;
        --venv) need_arg "$@"; VENV=$2; shift 2 ;;
        --python) need_arg "$@"; PYTHON=$2; shift 2 ;;
        --offline) OFFLINE=1; shift ;;
        --wheelhouse) need_arg "$@"; WHEELHOUSE=$2; shift 2 ;;
        --pip-args) [[ $# -ge 2 ]] || die "--pip-args needs a value"; PIP_ARGS=$2; shift 2 ;;
        --skip-pip) SKIP_PIP=1; shift ;;
        --keep-config) KEEP_CONFIG=1; shift ;;
        --prefix) need_arg "$@"; PREFIX=$2; shift 2 ;;
        --no-systemd) NO_SYSTEMD=1; shift ;;
        --no-udev) NO_UDEV=1; shift ;;
        --no-apt) NO_APT=1; shift ;;
        --no-kiosk) NO_KIOSK=1; shift ;;
        --voice) VOICE=1; shift ;;
        --light) need_arg "$@"; LIGHT_DEVICE=$2; shift 2 ;;
        --time-server) need_arg "$@"; TIME_SERVER=$2; shift 2 ;;
        --no-chrony) NO_CHRONY=1; shift ;;
        --no-watchdog) NO_WATCHDOG=1; shift ;;
        -y|--yes) ASSUME_YES=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $opt" ;;
    esac
done

# ---------------------------------------------------------------------------------------------------------
# Where things go
if [[ -n $PREFIX ]]; then
    mkdir -p "$PREFIX"
    ROOT=$(cd "$PREFIX" && pwd)
    [[ $ROOT != / ]] || ROOT=""
else
    ROOT=""
fi
REAL_SYSTEM=0
[[ -z $ROOT ]] && REAL_SYSTEM=1
if [[ $REAL_SYSTEM == 1 && $(id -u) != 0 ]]; then
    die "run as root (sudo), or use --prefix DIR to stage the files somewhere else"
fi
[[ $VENV == /* ]] || die "--venv must be an absolute path"
[[ $DATA_DIR == /* ]] || die "--data-dir must be an absolute path"

INTERACTIVE=0
if [[ $ASSUME_YES == 0 && -t 0 ]]; then INTERACTIVE=1; fi

CONFIG_EXISTS=0
[[ -f $ROOT$CONFIG_PATH ]] && CONFIG_EXISTS=1
WRITE_CONFIG=1
if [[ $KEEP_CONFIG == 1 && $CONFIG_EXISTS == 1 ]]; then WRITE_CONFIG=0; fi

# ---------------------------------------------------------------------------------------------------------
# Questions (only for values not given, only on a terminal)
ask() {  # ask VAR "question" default
    local __var=$1 __q=$2 __def=${3-} __ans
    [[ -z ${!__var} ]] || return 0
    if [[ $INTERACTIVE == 1 ]]; then
        read -r -p "$__q${__def:+ [$__def]}: " __ans
        printf -v "$__var" '%s' "${__ans:-$__def}"
    else
        printf -v "$__var" '%s' "$__def"
    fi
}

if [[ -z $TOKEN && -n $TOKEN_FILE ]]; then
    [[ -r $TOKEN_FILE ]] || die "cannot read --token-file $TOKEN_FILE"
    TOKEN=$(head -n1 -- "$TOKEN_FILE" | tr -d '\r\n')
fi
if [[ -z $TOKEN && -n ${SHIPGATE_STATION_TOKEN:-} ]]; then TOKEN=$SHIPGATE_STATION_TOKEN; fi

if [[ $WRITE_CONFIG == 1 ]]; then
    ask SERVER_URL "Shipgate server URL (https://...)"
    if [[ -z $TOKEN && $INTERACTIVE == 1 ]]; then
        read -r -s -p "Station token (from 'shipgate-server station add'): " TOKEN; echo
    fi
    ask NAME "Station name" "$(hostname 2>/dev/null || echo station)"
    ask SCANNER "Scanner device (/dev/scanner, /dev/ttyACM0, auto, VID:PID)" auto
    ask PRINTER_KIND "Printer kind (usb, serial, network, file, dummy)"
    case $PRINTER_KIND in
        usb) ask PRINTER_VID "Printer USB vendor id (lsusb, e.g. 04b8)"
             ask PRINTER_PID "Printer USB product id (e.g. 0e15)" ;;
        network) ask PRINTER_HOST "Printer IP address or host name" ;;
        serial) ask PRINTER_DEVICE "Printer serial device" /dev/receipt-printer ;;
        file) ask PRINTER_PATH "Printer device file" /dev/receipt-printer ;;
    esac
fi

# ---------------------------------------------------------------------------------------------------------
# Checks: a clear error and nothing written
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
hex4() {  # normalise a USB id (04b8, 0x04B8) to 4 lowercase hex digits, or fail
    local v=${1#0x}; v=${v#0X}; v=${v,,}
    [[ $v =~ ^[0-9a-f]{1,4}$ ]] || return 1
    printf '%04x' "$((16#$v))"
}
has_ctrl() { [[ $1 =~ [[:cntrl:]] ]]; }

if [[ $WRITE_CONFIG == 1 ]]; then
    [[ -n $SERVER_URL ]] || die "--server-url is required"
    [[ $SERVER_URL =~ ^https?://[^[:space:]/]+ ]] || die "--server-url must start with https:// or http://: $SERVER_URL"
    SERVER_URL=${SERVER_URL%/}
    if [[ $SERVER_URL == http://* && $INSECURE_HTTP == 0 ]]; then
        host=${SERVER_URL#http://}; host=${host%%/*}; host=${host%:*}
        case $host in
            localhost|127.*|\[::1\]) ;;
            *) die "--server-url is http:// to another machine: the token would travel in clear. Use https:// (with --ca-file for a private CA), or --insecure-http on a trusted network" ;;
        esac
    fi
    if [[ -n $CA_FILE ]]; then
        [[ -f $CA_FILE && -r $CA_FILE ]] || die "--ca-file is not a readable file: $CA_FILE"
        grep -q -- "-----BEGIN CERTIFICATE-----" "$CA_FILE" || die "--ca-file holds no PEM certificate: $CA_FILE"
        if command -v openssl >/dev/null && ! openssl x509 -noout -in "$CA_FILE" 2>/dev/null; then
            die "--ca-file is not a certificate openssl can read: $CA_FILE"
        fi
    fi
    [[ -n $TOKEN ]] || die "a station token is required (--token, --token-file or SHIPGATE_STATION_TOKEN)"
    [[ -n $NAME ]] || NAME=$(hostname 2>/dev/null || echo station)
    [[ -n $SCANNER ]] || SCANNER=auto
    for v in "$SERVER_URL" "$TOKEN" "$NAME" "$SCANNER" "$PRINTER_HOST" "$PRINTER_DEVICE" "$PRINTER_PATH" "$DATA_DIR"; do
        ! has_ctrl "$v" || die "control characters are not allowed in values"
    done
    if ! is_uint "$BUDGET_MS" || ((10#$BUDGET_MS == 0)); then
        die "--budget-ms must be a positive whole number of ms: $BUDGET_MS"
    fi
    case $MODE in bench|handover) ;; *) die "--mode must be bench or handover: $MODE" ;; esac
    [[ -z $REPLICA_MAX_AGE ]] || is_uint "$REPLICA_MAX_AGE" || die "--replica-max-age must be whole seconds: $REPLICA_MAX_AGE"
    if [[ $SCANNER != auto && $SCANNER != /dev/* ]]; then
        [[ $SCANNER =~ ^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$ ]] || die "--scanner must be a /dev path, auto or VID:PID: $SCANNER"
        SCANNER=${SCANNER,,}
    fi
    is_uint "$SCANNER_BAUD" || die "--scanner-baud must be a number: $SCANNER_BAUD"
    case ${SCANNER_SUFFIX^^} in
        CR|LF|CRLF) SCANNER_SUFFIX=${SCANNER_SUFFIX^^} ;;
        NONE) SCANNER_SUFFIX=none ;;
        *) die "--scanner-suffix must be CR, LF, CRLF or none: $SCANNER_SUFFIX" ;;
    esac
    # Whole numbers as plain decimals (TOML forbids leading zeros).
    BUDGET_MS=$((10#$BUDGET_MS)) SCANNER_BAUD=$((10#$SCANNER_BAUD))
    [[ -z $REPLICA_MAX_AGE ]] || REPLICA_MAX_AGE=$((10#$REPLICA_MAX_AGE))
    case $PRINTER_WIDTH in 58|80) ;; *) die "--printer-width must be 58 or 80: $PRINTER_WIDTH" ;; esac
    case $PRINTER_KIND in
        usb)
            [[ -n $PRINTER_VID && -n $PRINTER_PID ]] || die "--printer-kind usb needs --printer-vid and --printer-pid (see lsusb)"
            PRINTER_VID=$(hex4 "$PRINTER_VID") || die "--printer-vid must be a hex USB id like 04b8"
            PRINTER_PID=$(hex4 "$PRINTER_PID") || die "--printer-pid must be a hex USB id like 0e15" ;;
        network)
            [[ -n $PRINTER_HOST ]] || die "--printer-kind network needs --printer-host"
            if ! is_uint "$PRINTER_PORT" || ((10#$PRINTER_PORT == 0 || 10#$PRINTER_PORT > 65535)); then
                die "--printer-port must be 1-65535: $PRINTER_PORT"
            fi
            PRINTER_PORT=$((10#$PRINTER_PORT)) ;;
        serial)
            [[ -n $PRINTER_DEVICE ]] || die "--printer-kind serial needs --printer-device"
            if [[ -n $PRINTER_BAUD ]]; then
                is_uint "$PRINTER_BAUD" || die "--printer-baud must be a number: $PRINTER_BAUD"
                PRINTER_BAUD=$((10#$PRINTER_BAUD))
            fi ;;
        file) [[ -n $PRINTER_PATH ]] || die "--printer-kind file needs --printer-path" ;;
        dummy) echo "$PROG: warning: printer kind 'dummy' prints nothing (demos and tests only)" >&2 ;;
        "") die "--printer-kind is required (usb, serial, network, file or dummy)" ;;
        *) die "--printer-kind must be usb, serial, network, file or dummy: $PRINTER_KIND" ;;
    esac
fi

if [[ $SKIP_PIP == 0 ]]; then
    [[ -n $SOURCE ]] || SOURCE=$(cd "$SCRIPT_DIR/.." && pwd)
    if [[ -d $SOURCE ]]; then
        [[ -f $SOURCE/pyproject.toml ]] || die "--source $SOURCE has no pyproject.toml"
        SOURCE=$(cd "$SOURCE" && pwd)
    elif [[ -f $SOURCE ]]; then
        [[ $SOURCE == *.whl ]] || die "--source must be a directory or a .whl file: $SOURCE"
        SOURCE=$(cd "$(dirname "$SOURCE")" && pwd)/$(basename "$SOURCE")
    else
        die "--source not found: $SOURCE"
    fi
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found (apt-get install python3)"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$PYTHON is older than 3.11 (Raspberry Pi OS bookworm or newer ships 3.11)"
fi

UNIT_SRC=$SCRIPT_DIR/systemd/shipgate-station.service
RULES_SRC=$SCRIPT_DIR/udev/99-shipgate.rules
[[ -f $UNIT_SRC ]] || die "missing $UNIT_SRC (run this script from a Shipgate checkout's deploy/ folder)"
[[ $NO_UDEV == 1 || -f $RULES_SRC ]] || die "missing $RULES_SRC"

# ---------------------------------------------------------------------------------------------------------
# 1. Debian packages
if [[ $REAL_SYSTEM == 1 && $NO_APT == 0 ]] && command -v apt-get >/dev/null; then
    missing=()
    packages=(python3-venv libusb-1.0-0 ca-certificates espeak-ng alsa-utils)
    [[ $NO_KIOSK == 1 ]] || packages+=(cage chromium fonts-noto-cjk)
    [[ $NO_CHRONY == 1 ]] || packages+=(chrony)
    for pkg in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        say "Installing Debian packages: ${missing[*]}"
        run apt-get install -y --no-install-recommends "${missing[@]}" \
            || { run apt-get update && run apt-get install -y --no-install-recommends "${missing[@]}"; }
    fi
fi

# ---------------------------------------------------------------------------------------------------------
# 2. User and directories
if [[ $REAL_SYSTEM == 1 ]]; then
    if ! getent passwd "$STATION_USER" >/dev/null; then
        say "Creating system user $STATION_USER"
        run useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
            --shell /usr/sbin/nologin --comment "Shipgate station" "$STATION_USER"
    fi
    for grp in dialout lp input; do
        getent group "$grp" >/dev/null || run groupadd --system "$grp"
    done
    getent group audio >/dev/null || run groupadd --system audio
    run usermod -a -G dialout,lp,input,audio "$STATION_USER"
    if [[ $NO_KIOSK == 0 ]] && ! getent passwd "$KIOSK_USER" >/dev/null; then
        say "Creating system user $KIOSK_USER (the kiosk browser)"
        for grp in video render input; do
            getent group "$grp" >/dev/null || run groupadd --system "$grp"
        done
        run useradd --system --user-group --create-home --home-dir "/var/lib/$KIOSK_USER" \
            --groups video,render,input --shell /usr/sbin/nologin --comment "Shipgate bench screen" "$KIOSK_USER"
    fi
else
    say "Prefix install: not creating user $STATION_USER (groups dialout, lp, audio) or $KIOSK_USER"
fi

install -d -m 0755 "$ROOT/etc/shipgate"
install -d -m 0750 "$ROOT$DATA_DIR"
if [[ $REAL_SYSTEM == 1 ]]; then
    chown "$STATION_USER:$STATION_USER" "$DATA_DIR"
fi

# ---------------------------------------------------------------------------------------------------------
# 3. The venv, with the station extra only
if [[ $SKIP_PIP == 0 ]]; then
    say "Creating venv $ROOT$VENV"
    [[ -x $ROOT$VENV/bin/python ]] || run "$PYTHON" -m venv "$ROOT$VENV"
    pip_opts=(--disable-pip-version-check --no-input --upgrade)
    [[ $OFFLINE == 0 ]] || pip_opts+=(--no-index --no-build-isolation)
    [[ -z $WHEELHOUSE ]] || pip_opts+=(--find-links "$WHEELHOUSE")
    if [[ -n $PIP_ARGS ]]; then
        read -r -a extra <<<"$PIP_ARGS"
        pip_opts+=("${extra[@]}")
    fi
    say "Installing shipgate[station] from $SOURCE"
    run "$ROOT$VENV/bin/python" -m pip install "${pip_opts[@]}" "${SOURCE}[station]"
    [[ -x $ROOT$VENV/bin/shipgate-station ]] || die "pip did not install $VENV/bin/shipgate-station"
else
    say "Skipping venv and pip (--skip-pip)"
fi

# ---------------------------------------------------------------------------------------------------------
# 4. station.toml
toml_str() {  # a TOML basic string
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

write_config() {
    local out=$1
    {
        echo "# Shipgate station settings, written by $PROG on $(date -u +%Y-%m-%dT%H:%M:%SZ)."
        echo "# Read by: shipgate-station run --config $CONFIG_PATH   (see deploy/README.md)"
        echo "# Holds the station token: keep it mode 0640, owner root, group $STATION_USER."
        echo
        echo "[server]"
        echo "url = $(toml_str "$SERVER_URL")"
        echo "token = $(toml_str "$TOKEN")"
        echo "# How long a scan waits for the server before the station decides from its replica."
        echo "budget_ms = $BUDGET_MS"
        if [[ -n $CA_FILE ]]; then
            echo "# The private CA that signed the server's certificate (--ca-file)."
            echo "ca_file = $(toml_str "$CA_PATH")"
        fi
        if [[ $INSECURE_HTTP == 1 ]]; then
            echo "# http:// to another machine: the token travels in clear (--insecure-http)."
            echo "insecure_http = true"
        fi
        echo
        echo "[scanner]"
        echo "# /dev/scanner (udev symlink), /dev/ttyACM0, \"auto\" or \"vid:pid\"."
        echo "device = $(toml_str "$SCANNER")"
        echo "baud = $SCANNER_BAUD"
        echo "# The suffix programmed into the scanner: CR, LF, CRLF or none."
        echo "suffix = $(toml_str "$SCANNER_SUFFIX")"
        echo
        echo "[printer]"
        echo "kind = $(toml_str "$PRINTER_KIND")"
        case $PRINTER_KIND in
            usb)
                echo "vendor_id = 0x$PRINTER_VID"
                echo "product_id = 0x$PRINTER_PID" ;;
            network)
                echo "host = $(toml_str "$PRINTER_HOST")"
                echo "port = $PRINTER_PORT" ;;
            serial)
                echo "device = $(toml_str "$PRINTER_DEVICE")"
                [[ -z $PRINTER_BAUD ]] || echo "baud = $PRINTER_BAUD" ;;
            file) echo "path = $(toml_str "$PRINTER_PATH")" ;;
        esac
        echo "# Paper width in mm: 58 or 80."
        echo "width = $PRINTER_WIDTH"
        echo
        echo "[station]"
        echo "name = $(toml_str "$NAME")"
        echo "# bench: packing bench; handover: courier pickup point."
        echo "mode = $(toml_str "$MODE")"
        echo "# Journal and replica. On a read-only (overlay) root this must be a writable mount."
        echo "data_dir = $(toml_str "$DATA_DIR")"
        if [[ -n $REPLICA_MAX_AGE ]]; then
            echo "# Offline, scans HOLD once the replica is older than this (seconds)."
            echo "replica_max_age_s = $REPLICA_MAX_AGE"
        else
            echo "# replica_max_age_s = 600   # offline, scans HOLD once the replica is older (unset: default)"
        fi
        if [[ $VOICE == 1 ]]; then
            echo
            echo "[voice]"
            echo "enabled = true"
            echo "# Prompts generated at install: $DATA_DIR/voice; your own recordings: dir = \"...\""
        fi
        if [[ -n $LIGHT_DEVICE ]]; then
            echo
            echo "[light]"
            echo "kind = \"serial\""
            echo "device = $(toml_str "$LIGHT_DEVICE")"
        fi
    } >"$out"
}

if [[ $WRITE_CONFIG == 1 ]]; then
    target=$ROOT$CONFIG_PATH
    if [[ $CONFIG_EXISTS == 1 ]]; then
        backup=$target.$(date +%Y%m%d%H%M%S).bak
        say "Backing up the existing config to $backup"
        cp -p -- "$target" "$backup"
    fi
    if [[ -n $CA_FILE ]]; then
        say "Installing the server's CA certificate to $ROOT$CA_PATH"
        install -m 0644 -- "$CA_FILE" "$ROOT$CA_PATH"
    fi
    say "Writing $target"
    tmp=$(umask 077 && mktemp "$ROOT/etc/shipgate/.station.toml.XXXXXX")
    trap 'rm -f -- "$tmp"' EXIT
    write_config "$tmp"
    chmod 0640 "$tmp"
    if [[ $REAL_SYSTEM == 1 ]]; then chown "root:$STATION_USER" "$tmp"; fi
    mv -f -- "$tmp" "$target"
    trap - EXIT
else
    say "Keeping the existing $ROOT$CONFIG_PATH (--keep-config)"
fi

# ---------------------------------------------------------------------------------------------------------
# 5. udev rules
if [[ $NO_UDEV == 0 ]]; then
    install -d -m 0755 "$ROOT$(dirname "$RULES_PATH")"
    if [[ -f $ROOT$RULES_PATH ]] && ! cmp -s "$RULES_SRC" "$ROOT$RULES_PATH"; then
        # Keep the ids IT entered; offer the new version beside it.
        say "Keeping the edited $ROOT$RULES_PATH; the new version is in $RULES_PATH.new"
        install -m 0644 "$RULES_SRC" "$ROOT$RULES_PATH.new"
    else
        say "Installing udev rules to $ROOT$RULES_PATH (ADJUST the example vendor ids in it)"
        install -m 0644 "$RULES_SRC" "$ROOT$RULES_PATH"
    fi
    if [[ $REAL_SYSTEM == 1 ]] && command -v udevadm >/dev/null; then
        run udevadm control --reload || true
        run udevadm trigger --subsystem-match=tty --subsystem-match=usb --subsystem-match=usbmisc \
            --subsystem-match=input --subsystem-match=hidg || true
    fi
fi

# ---------------------------------------------------------------------------------------------------------
# 6. The bench's alarms and its clock (before the station starts, so it starts with them)
if [[ $NO_KIOSK == 0 ]]; then
    say "Installing the kiosk unit to $ROOT$KIOSK_UNIT_PATH (bench screen on HDMI, tty1)"
    install -d -m 0755 "$ROOT$(dirname "$KIOSK_UNIT_PATH")"
    install -m 0644 "$SCRIPT_DIR/systemd/shipgate-kiosk.service" "$ROOT$KIOSK_UNIT_PATH"
fi
if [[ $NO_WATCHDOG == 0 ]]; then
    say "Turning on the hardware watchdog: $ROOT$WATCHDOG_CONF_PATH"
    install -d -m 0755 "$ROOT$(dirname "$WATCHDOG_CONF_PATH")"
    install -m 0644 "$SCRIPT_DIR/systemd/system.conf.d/shipgate-watchdog.conf" "$ROOT$WATCHDOG_CONF_PATH"
fi
if [[ $NO_CHRONY == 0 ]]; then
    if [[ -z $TIME_SERVER ]]; then
        TIME_SERVER=${SERVER_URL#*://}
        TIME_SERVER=${TIME_SERVER%%/*}
        TIME_SERVER=${TIME_SERVER%:*}
    fi
    if [[ -z $TIME_SERVER ]]; then
        say "No server URL given (--keep-config?): chrony left as it is; pass --time-server HOST"
    else
        [[ $TIME_SERVER =~ ^[A-Za-z0-9.:-]+$ ]] || die "--time-server must be a host name or address: $TIME_SERVER"
        say "Time source for chrony: $TIME_SERVER ($ROOT$CHRONY_CONF_PATH)"
        install -d -m 0755 "$ROOT$(dirname "$CHRONY_CONF_PATH")"
        sed -e "s#SERVER_HOST#$TIME_SERVER#" "$SCRIPT_DIR/chrony/shipgate-station.conf" >"$ROOT$CHRONY_CONF_PATH"
        chmod 0644 "$ROOT$CHRONY_CONF_PATH"
    fi
fi
if [[ -x $ROOT$VENV/bin/shipgate-station ]] && command -v espeak-ng >/dev/null; then
    say "Generating the voice prompts in $ROOT$DATA_DIR/voice"
    run "$ROOT$VENV/bin/shipgate-station" voice-prompts --dir "$ROOT$DATA_DIR/voice" \
        || say "Voice prompts not generated (the station runs without them)"
    if [[ $REAL_SYSTEM == 1 ]]; then chown -R "$STATION_USER:$STATION_USER" "$DATA_DIR/voice"; fi
else
    say "Not generating voice prompts (no venv or no espeak-ng)"
fi
if [[ $REAL_SYSTEM == 1 && $NO_SYSTEMD == 0 ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    run systemctl daemon-reload
    [[ $NO_CHRONY == 1 ]] || run systemctl restart chrony || true
    if [[ $NO_KIOSK == 0 ]]; then
        run systemctl disable getty@tty1.service || true
        run systemctl set-default graphical.target
        run systemctl enable shipgate-kiosk.service
    fi
    [[ $NO_WATCHDOG == 1 ]] || run systemctl daemon-reexec
fi

# ---------------------------------------------------------------------------------------------------------
# 7. The station's unit
say "Installing the unit to $ROOT$UNIT_PATH"
install -d -m 0755 "$ROOT$(dirname "$UNIT_PATH")"
unit_tmp=$(mktemp)
sed -e "s#$DEFAULT_VENV/bin/shipgate-station#$VENV/bin/shipgate-station#g" \
    -e "s#^ReadWritePaths=$DEFAULT_DATA_DIR\$#ReadWritePaths=$DATA_DIR#" \
    -e "s#^RequiresMountsFor=$DEFAULT_DATA_DIR\$#RequiresMountsFor=$DATA_DIR#" \
    "$UNIT_SRC" >"$unit_tmp"
if [[ $DATA_DIR != "$DEFAULT_DATA_DIR" ]]; then
    # The data dir is elsewhere (a writable mount): systemd does not manage it, the user owns it.
    sed -i -e "s#^WorkingDirectory=$DEFAULT_DATA_DIR\$#WorkingDirectory=$DATA_DIR#" "$unit_tmp"
fi
install -m 0644 "$unit_tmp" "$ROOT$UNIT_PATH"
rm -f -- "$unit_tmp"

if [[ $REAL_SYSTEM == 1 && $NO_SYSTEMD == 0 ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    run systemctl daemon-reload
    run systemctl enable shipgate-station.service
    run systemctl restart shipgate-station.service
    [[ $NO_KIOSK == 1 ]] || run systemctl restart shipgate-kiosk.service
    say "Started. Follow it with: journalctl -u shipgate-station -f"
else
    say "Not touching systemd (prefix install, --no-systemd, or no running systemd)"
fi

# ---------------------------------------------------------------------------------------------------------
cat <<EOF

Station installed.
  config   $ROOT$CONFIG_PATH
  data     $ROOT$DATA_DIR
  venv     $ROOT$VENV$([[ $SKIP_PIP == 1 ]] && echo "  (not created: --skip-pip)")
  unit     $ROOT$UNIT_PATH
Next:
  1. Edit the example USB ids in $RULES_PATH (lsusb), then: udevadm control --reload && udevadm trigger
  2. $VENV/bin/shipgate-station list-ports                  # the scanner must be listed (CDC mode)
  3. systemctl stop shipgate-station; then as user $STATION_USER:
       $VENV/bin/shipgate-station test-print --config $CONFIG_PATH
       $VENV/bin/shipgate-station check CODE --config $CONFIG_PATH     # one decision from the server
     systemctl start shipgate-station; journalctl -u shipgate-station -f
EOF
