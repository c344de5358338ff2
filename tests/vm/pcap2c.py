#!/usr/bin/env python3
"""tests/vm/pcap2c.py OUTDIR PCAP...: turn nlmon captures (tests/vm/capture_odp.sh) into what
unit tests of the Open vSwitch netlink code can use. Keeps only the generic-netlink messages of
the ovs_* families (their ids come from the nlctrl replies in the same capture) and the
NLMSG_ERROR / NLMSG_DONE messages that answer them, and writes to OUTDIR:
  ovs_dpctl.h     each kept packet (one send()/recv() buffer, possibly several netlink
                  messages) as a C byte array, once (a buffer equal to an earlier one but for
                  sequence numbers and port ids is left out), and a table of them with
                  direction, family, command and capture
  NN-STEP.pcap    all the kept packets of each capture (tcpdump -r, wireshark)
  INDEX.md        one line per buffer in ovs_dpctl.h
Standard library only.
"""
import os
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 16
CTRL_CMD_NEWFAMILY, CTRL_CMD_GETFAMILY = 1, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F = [(0x1, "REQUEST"), (0x2, "MULTI"), (0x4, "ACK"), (0x8, "ECHO")]
NLM_F_GET = [(0x100, "ROOT"), (0x200, "MATCH")]
NLM_F_NEW = [(0x100, "REPLACE"), (0x200, "EXCL"), (0x400, "CREATE"), (0x800, "APPEND")]
CMDS = {
    "ovs_datapath": {1: "OVS_DP_CMD_NEW", 2: "OVS_DP_CMD_DEL", 3: "OVS_DP_CMD_GET", 4: "OVS_DP_CMD_SET"},
    "ovs_vport": {1: "OVS_VPORT_CMD_NEW", 2: "OVS_VPORT_CMD_DEL", 3: "OVS_VPORT_CMD_GET", 4: "OVS_VPORT_CMD_SET"},
    "ovs_flow": {1: "OVS_FLOW_CMD_NEW", 2: "OVS_FLOW_CMD_DEL", 3: "OVS_FLOW_CMD_GET", 4: "OVS_FLOW_CMD_SET"},
    "ovs_packet": {1: "OVS_PACKET_CMD_MISS", 2: "OVS_PACKET_CMD_ACTION", 3: "OVS_PACKET_CMD_EXECUTE"},
    "ovs_meter": {1: "OVS_METER_CMD_FEATURES", 2: "OVS_METER_CMD_SET", 3: "OVS_METER_CMD_DEL", 4: "OVS_METER_CMD_GET"},
    "ovs_ct_limit": {1: "OVS_CT_LIMIT_CMD_SET", 2: "OVS_CT_LIMIT_CMD_DEL", 3: "OVS_CT_LIMIT_CMD_GET"},
}
ERRNO = {1: "EPERM", 2: "ENOENT", 12: "ENOMEM", 16: "EBUSY", 17: "EEXIST", 19: "ENODEV",
         22: "EINVAL", 95: "EOPNOTSUPP", 98: "EADDRINUSE"}


def read_pcap(path):
    d = open(path, "rb").read()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", d[:24])
    if magic != 0xA1B2C3D4 or linktype != 253:
        sys.exit(f"{path}: not a little-endian nlmon pcap (magic {magic:#x}, link type {linktype})")
    off, pkts = 24, []
    while off + 16 <= len(d):
        ts, tu, incl, orig = struct.unpack("<IIII", d[off:off + 16])
        rec = d[off:off + 16 + incl]
        pkt = d[off + 16:off + 16 + incl]
        off += 16 + incl
        if incl != orig:
            sys.exit(f"{path}: a truncated packet ({incl} of {orig} bytes)")
        proto = struct.unpack(">H", pkt[14:16])[0]  # the nlmon link header: netlink protocol
        pkts.append((rec, proto, pkt[16:]))
    return d[:24], pkts


def nlmsgs(buf):
    off = 0
    while off + 16 <= len(buf):
        ln, typ, flags, seq, pid = struct.unpack("<IHHII", buf[off:off + 16])
        if ln < 16 or off + ln > len(buf):
            break
        yield typ, flags, seq, pid, buf[off:off + ln]
        off += (ln + 3) & ~3


def msg_offsets(buf):
    off = 0
    while off + 16 <= len(buf):
        ln = struct.unpack("<I", buf[off:off + 4])[0]
        if ln < 16 or off + ln > len(buf):
            break
        yield off
        off += (ln + 3) & ~3


def attrs(buf):
    off = 0
    while off + 4 <= len(buf):
        ln, typ = struct.unpack("<HH", buf[off:off + 4])
        if ln < 4:
            break
        yield typ & 0x3FFF, buf[off + 4:off + ln]
        off += (ln + 3) & ~3


def flag_names(typ_is_new, typ_is_get, flags):
    names = [n for b, n in NLM_F if flags & b]
    extra = NLM_F_NEW if typ_is_new else NLM_F_GET if typ_is_get else []
    names += [n for b, n in extra if flags & b]
    return "|".join(names) or "0"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    outdir, pcaps = sys.argv[1], sys.argv[2:]
    os.makedirs(outdir, exist_ok=True)
    entries, index, families, seen = [], [], {}, set()
    for path in sorted(pcaps):
        step = os.path.basename(path)[:-len(".pcap")]
        ghdr, pkts = read_pcap(path)
        fam = {}  # family id -> name, from this capture's nlctrl replies
        for _, proto, buf in pkts:
            if proto != NETLINK_GENERIC:
                continue
            for typ, _, _, _, m in nlmsgs(buf):
                if typ == GENL_ID_CTRL and m[16] == CTRL_CMD_NEWFAMILY:
                    a = dict(attrs(m[20:]))
                    if CTRL_ATTR_FAMILY_ID in a and CTRL_ATTR_FAMILY_NAME in a:
                        fam[struct.unpack("<H", a[CTRL_ATTR_FAMILY_ID][:2])[0]] = \
                            a[CTRL_ATTR_FAMILY_NAME].rstrip(b"\0").decode()
        ovs_ids = {i: n for i, n in fam.items() if n.startswith("ovs_")}
        families.update({n: i for i, n in ovs_ids.items()})
        asked = {}  # (seq, portid) of an ovs request -> (family, cmd)
        kept = []
        for rec, proto, buf in pkts:
            if proto != NETLINK_GENERIC:
                continue
            descs = []
            for typ, flags, seq, pid, m in nlmsgs(buf):
                to_kernel = bool(flags & 0x1)
                if typ in ovs_ids:
                    f, cmd = ovs_ids[typ], m[16]
                    cname = CMDS.get(f, {}).get(cmd, f"cmd {cmd}")
                    if to_kernel:
                        asked[(seq, pid)] = (f, cname)
                    fl = flag_names(cname.endswith("_NEW"), cname.endswith("_GET") or cname.endswith("_DEL"), flags)
                    dp_ifindex = struct.unpack("<i", m[20:24])[0] if len(m) >= 24 else 0
                    descs.append((to_kernel, f, cname,
                                  f"{'request' if to_kernel else 'reply'} {f} {cname} flags={fl} "
                                  f"seq={seq} dp_ifindex={dp_ifindex} len={len(m)}"))
                elif typ == NLMSG_ERROR and len(m) >= 36:
                    err = -struct.unpack("<i", m[16:20])[0]
                    otyp = struct.unpack("<H", m[24:26])[0]
                    if otyp in ovs_ids:
                        f = ovs_ids[otyp]
                        cname = CMDS.get(f, {}).get(m[36], "?") if len(m) > 36 else "?"
                        what = "ack" if err == 0 else f"error {ERRNO.get(err, err)} ({-err})"
                        descs.append((False, f, cname, f"{what} to {f} {cname} seq={seq} len={len(m)}"))
                elif typ == NLMSG_DONE and (seq, pid) in asked:
                    f, cname = asked[(seq, pid)]
                    descs.append((False, f, cname, f"done of the {f} {cname} dump seq={seq} len={len(m)}"))
            if not descs:
                continue
            kept.append(rec)
            k = len(kept)
            # ovs-dpctl repeats itself (it probes the same vports at every start): in the header,
            # one copy of each buffer, compared with the sequence numbers and port ids zeroed
            same = bytearray(buf)
            for off in msg_offsets(buf):
                same[off + 8:off + 16] = bytes(8)
                if struct.unpack("<H", buf[off + 4:off + 6])[0] == NLMSG_ERROR:
                    same[off + 28:off + 36] = bytes(8)  # the request's header, echoed
            if bytes(same) in seen:
                continue
            seen.add(bytes(same))
            name = f"cap_{step.replace('-', '_')}_{k}"
            to_kernel, f, cname, _ = descs[0]
            entries.append((name, step, to_kernel, f, cname, buf, [d[3] for d in descs]))
            index.append(f"| {step} | {k} | {'to kernel' if to_kernel else 'from kernel'} | "
                         f"{len(buf)} | {'<br>'.join(d[3] for d in descs)} |")
        with open(os.path.join(outdir, step + ".pcap"), "wb") as o:
            o.write(ghdr)
            for rec in kept:
                o.write(rec)

    with open(os.path.join(outdir, "ovs_dpctl.h"), "w") as h:
        h.write("/* Generated by tests/vm/pcap2c.py from the captures of tests/vm/capture_odp.sh: the\n"
                " * generic-netlink buffers that ovs-dpctl (Open vSwitch 3.1) and the kernel's openvswitch\n"
                " * module (Debian 6.1 cloud kernel) exchanged in the test VM, one array per send/recv\n"
                " * buffer (a dump reply may hold several messages), 8-byte aligned. Host byte order (x86-64). The family\n"
                " * ids are that boot's: " +
                ", ".join(f"{n}={i}" for n, i in sorted(families.items())) + ".\n"
                " * tests/vm/captures/README.md says what each step ran. Do not edit. */\n"
                "#ifndef MESH_TESTS_VM_CAPTURES_OVS_DPCTL_H\n#define MESH_TESTS_VM_CAPTURES_OVS_DPCTL_H\n"
                "#include <stddef.h>\n#include <stdint.h>\n\n")
        for n, i in sorted(families.items()):
            h.write(f"#define OVS_DPCTL_CAP_FAMILY_{n[4:].upper()} {i}\n")
        h.write("\nstruct ovs_dpctl_capture {\n\tconst char *step;   /* the capture (NN-what) */\n"
                "\tint to_kernel;       /* 1: ovs-dpctl's request, 0: the kernel's answer */\n"
                "\tconst char *family;  /* of the first message */\n\tconst char *cmd;\n"
                "\tconst char *what;    /* every message in the buffer */\n"
                "\tconst uint8_t *bytes;\n\tsize_t len;\n};\n\n")
        for name, step, tk, f, cname, buf, descs in entries:
            h.write(f"/* {step}: " + "; ".join(descs) + " */\n")
            h.write(f"static const _Alignas(8) uint8_t {name}[{len(buf)}] = {{")
            for j in range(0, len(buf), 16):
                h.write("\n\t" + ", ".join(f"0x{b:02x}" for b in buf[j:j + 16]) + ",")
            h.write("\n};\n")
        h.write("\nstatic const struct ovs_dpctl_capture ovs_dpctl_captures[] = {\n")
        for name, step, tk, f, cname, buf, descs in entries:
            what = "; ".join(descs).replace('"', "'")
            h.write(f'\t{{ "{step}", {int(tk)}, "{f}", "{cname}",\n\t  "{what}",\n\t  {name}, sizeof({name}) }},\n')
        h.write("};\n#define OVS_DPCTL_CAPTURES_N (sizeof(ovs_dpctl_captures) / sizeof(ovs_dpctl_captures[0]))\n"
                "\n#endif\n")
    with open(os.path.join(outdir, "INDEX.md"), "w") as o:
        o.write("# Kept buffers (generated by tests/vm/pcap2c.py)\n\n"
                "| capture | # | direction | bytes | messages |\n|---|---|---|---|---|\n")
        o.write("\n".join(index) + "\n")
    print(f"pcap2c: {len(entries)} buffers from {len(pcaps)} captures into {outdir}", file=sys.stderr)


if __name__ == "__main__":
    main()
