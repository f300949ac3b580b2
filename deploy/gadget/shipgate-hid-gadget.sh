#!/usr/bin/env bash
# shipgate-hid-gadget: make this Raspberry Pi a USB keyboard for the packing PC (the inline gate).
#
#   shipgate-hid-gadget up     create the configfs gadget with one boot-keyboard HID function and bind it
#   shipgate-hid-gadget down   unbind and remove it
#   shipgate-hid-gadget status print the gadget's state and its /dev/hidg* device
#
# The station then writes 8-byte boot-keyboard reports to /dev/hidg0 ([forward] kind = "hidg").
# Needs a board with a USB device-mode (OTG) port and the dwc2 driver in peripheral mode:
#   Raspberry Pi 4 / 5: the USB-C port (also the power input: use a USB-C power/data splitter, a PC port
#                        cannot power a Pi with a scanner and printer);  Pi Zero 2 W: the "USB" data port.
#   /boot/firmware/config.txt:  dtoverlay=dwc2,dr_mode=peripheral    then reboot.
# Run as root (deploy/systemd/shipgate-hid-gadget.service does, before the station starts).
set -euo pipefail

NAME=${SHIPGATE_GADGET_NAME:-shipgate}
# SHIPGATE_CONFIGFS and SHIPGATE_UDC point the script at a plain directory and a named controller (the
# deploy tests do): then it neither loads modules nor mounts anything.
CONFIGFS=${SHIPGATE_CONFIGFS:-/sys/kernel/config}
REAL=${SHIPGATE_CONFIGFS:+0}
REAL=${REAL:-1}
G=$CONFIGFS/usb_gadget/$NAME
# Linux Foundation "Multifunction Composite Gadget": fine for an in-house device; use your own ids if you have them.
VENDOR_ID=${SHIPGATE_GADGET_VENDOR:-0x1d6b}
PRODUCT_ID=${SHIPGATE_GADGET_PRODUCT:-0x0104}
SERIAL=${SHIPGATE_GADGET_SERIAL:-$(hostname)}
# The standard boot-keyboard report descriptor (USB HID 1.11, appendix E.6): modifiers, reserved, 6 keys, LEDs.
REPORT_DESC='\x05\x01\x09\x06\xa1\x01\x05\x07\x19\xe0\x29\xe7\x15\x00\x25\x01\x75\x01\x95\x08\x81\x02\x95\x01\x75\x08\x81\x03\x95\x05\x75\x01\x05\x08\x19\x01\x29\x05\x91\x02\x95\x01\x75\x03\x91\x03\x95\x06\x75\x08\x15\x00\x25\x65\x05\x07\x19\x00\x29\x65\x81\x00\xc0'

die() { echo "shipgate-hid-gadget: $*" >&2; exit 1; }

up() {
    if [[ $REAL == 1 ]]; then
        modprobe libcomposite 2>/dev/null || true
        mountpoint -q "$CONFIGFS" || mount -t configfs none "$CONFIGFS"
    fi
    [[ -d $CONFIGFS/usb_gadget ]] || die "no $CONFIGFS/usb_gadget: the kernel lacks libcomposite"
    local udc=${SHIPGATE_UDC:-}
    [[ -n $udc ]] || udc=$(find /sys/class/udc -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | head -n1 || true)
    [[ -n $udc ]] || die "no USB device controller in /sys/class/udc: add dtoverlay=dwc2,dr_mode=peripheral and reboot"
    if [[ -d $G ]]; then
        [[ -n $(cat "$G/UDC" 2>/dev/null) ]] && { echo "gadget $NAME already bound"; return 0; }
    else
        mkdir -p "$G"
        echo "$VENDOR_ID" > "$G/idVendor"
        echo "$PRODUCT_ID" > "$G/idProduct"
        echo 0x0100 > "$G/bcdDevice"
        echo 0x0200 > "$G/bcdUSB"
        mkdir -p "$G/strings/0x409"
        echo "$SERIAL" > "$G/strings/0x409/serialnumber"
        echo "Shipgate" > "$G/strings/0x409/manufacturer"
        echo "Shipgate inline gate keyboard" > "$G/strings/0x409/product"
        mkdir -p "$G/configs/c.1/strings/0x409"
        echo "boot keyboard" > "$G/configs/c.1/strings/0x409/configuration"
        echo 100 > "$G/configs/c.1/MaxPower"
        mkdir -p "$G/functions/hid.usb0"
        echo 1 > "$G/functions/hid.usb0/protocol"       # keyboard
        echo 1 > "$G/functions/hid.usb0/subclass"       # boot interface
        echo 8 > "$G/functions/hid.usb0/report_length"
        printf '%b' "$REPORT_DESC" > "$G/functions/hid.usb0/report_desc"
        ln -s "$G/functions/hid.usb0" "$G/configs/c.1/"
    fi
    echo "$udc" > "$G/UDC"
    echo "gadget $NAME bound to $udc"
}

down() {
    [[ -d $G ]] || { echo "no gadget $NAME"; return 0; }
    echo "" > "$G/UDC" 2>/dev/null || true
    rm -f "$G/configs/c.1/hid.usb0"
    rmdir "$G/configs/c.1/strings/0x409" "$G/configs/c.1" "$G/functions/hid.usb0" "$G/strings/0x409" "$G"
    echo "gadget $NAME removed"
}

status() {
    [[ -d $G ]] || { echo "no gadget $NAME"; return 3; }
    local devices
    devices=$(find /dev -maxdepth 1 -name 'hidg*' 2>/dev/null | tr '\n' ' ')
    echo "gadget $NAME: UDC=$(cat "$G/UDC" 2>/dev/null || echo '?') device=${devices:-none}"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
