#!/usr/bin/env python3
"""Independent reference for the JA3 and JA4 values asserted in fingerprint's tests.

This is a second implementation, written separately from the Go code (different
language, different parser) from the two specifications:
  JA3: https://github.com/salesforce/ja3 (README)
  JA4: https://github.com/FoxIO-LLC/ja4/blob/main/technical_details/JA4.md

Usage: python3 tlsref.py FILE...   (each FILE holds the raw TLS record bytes of a ClientHello)
Prints, per file: the record length used, JA3 string, JA3 md5, JA4, JA4_r.
With --trim, rewrites each file to exactly the records that carry the ClientHello.
"""
import hashlib
import struct
import sys

GREASE = {(b << 8) | b for b in range(0x0A, 0x100, 0x10)}


def records(data):
    """Yields (end offset, handshake payload) for the TLS handshake records at the start of data."""
    off = 0
    payload = b""
    while off + 5 <= len(data):
        ctype, _ver, ln = struct.unpack(">BHH", data[off:off + 5])
        if ctype != 22:
            raise ValueError("not a handshake record")
        payload += data[off + 5:off + 5 + ln]
        off += 5 + ln
        if len(payload) >= 4:
            need = 4 + int.from_bytes(payload[1:4], "big")
            if len(payload) >= need:
                return off, payload[:need]
    raise ValueError("truncated")


def parse(hs):
    if hs[0] != 1:
        raise ValueError("not a ClientHello")
    b = hs[4:]
    p = 0
    version = struct.unpack(">H", b[p:p + 2])[0]
    p += 2 + 32
    sid = b[p]
    p += 1 + sid
    cl = struct.unpack(">H", b[p:p + 2])[0]
    p += 2
    ciphers = [struct.unpack(">H", b[p + i:p + i + 2])[0] for i in range(0, cl, 2)]
    p += cl
    comp = b[p]
    p += 1 + comp
    out = dict(version=version, ciphers=ciphers, exts=[], curves=[], points=[], sigs=[], versions=[], alpn=[], sni=None)
    if p >= len(b):
        return out
    el = struct.unpack(">H", b[p:p + 2])[0]
    p += 2
    end = p + el
    while p < end:
        t, ln = struct.unpack(">HH", b[p:p + 4])
        d = b[p + 4:p + 4 + ln]
        p += 4 + ln
        out["exts"].append(t)
        if t == 0x0000:
            # server_name_list: u16 len, then (u8 type, u16 len, name)
            q = 2
            if d[q] == 0:
                n = struct.unpack(">H", d[q + 1:q + 3])[0]
                out["sni"] = d[q + 3:q + 3 + n].decode("latin-1")
        elif t == 0x000A:
            n = struct.unpack(">H", d[:2])[0]
            out["curves"] = [struct.unpack(">H", d[2 + i:4 + i])[0] for i in range(0, n, 2)]
        elif t == 0x000B:
            out["points"] = list(d[1:1 + d[0]])
        elif t == 0x000D:
            n = struct.unpack(">H", d[:2])[0]
            out["sigs"] = [struct.unpack(">H", d[2 + i:4 + i])[0] for i in range(0, n, 2)]
        elif t == 0x0010:
            q = 2
            while q < len(d):
                n = d[q]
                out["alpn"].append(d[q + 1:q + 1 + n])
                q += 1 + n
        elif t == 0x002B:
            out["versions"] = [struct.unpack(">H", d[1 + i:3 + i])[0] for i in range(0, d[0], 2)]
    return out


def ja3(h):
    f = lambda xs: "-".join(str(x) for x in xs if x not in GREASE)
    s = ",".join([str(h["version"]), f(h["ciphers"]), f(h["exts"]), f(h["curves"]), "-".join(str(x) for x in h["points"])])
    return s, hashlib.md5(s.encode()).hexdigest()


def ja4(h, transport="t"):
    names = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3", 0x0002: "s2",
             0xFEFF: "d1", 0xFEFD: "d2", 0xFEFC: "d3"}
    vs = [v for v in h["versions"] if v not in GREASE]
    v = max(vs) if vs else h["version"]
    ver = names.get(v, "00")
    sni = "d" if 0x0000 in h["exts"] else "i"
    ciphers = [c for c in h["ciphers"] if c not in GREASE]
    exts = [e for e in h["exts"] if e not in GREASE]
    alpn = "00"
    if h["alpn"] and h["alpn"][0]:
        a = h["alpn"][0]
        isan = lambda c: chr(c).isascii() and chr(c).isalnum()
        if isan(a[0]) and isan(a[-1]):
            alpn = chr(a[0]) + chr(a[-1])
        else:
            hx = a.hex()
            alpn = hx[0] + hx[-1]
    a_part = "%s%s%s%02d%02d%s" % (transport, ver, sni, min(len(ciphers), 99), min(len(exts), 99), alpn)
    cs = ",".join("%04x" % c for c in sorted(ciphers))
    es = ",".join("%04x" % e for e in sorted(e for e in exts if e not in (0x0000, 0x0010)))
    sigs = ",".join("%04x" % s for s in h["sigs"] if s not in GREASE)
    c_raw = es + ("_" + sigs if sigs else "")
    b_hash = hashlib.sha256(cs.encode()).hexdigest()[:12] if ciphers else "000000000000"
    c_hash = hashlib.sha256(c_raw.encode()).hexdigest()[:12] if es else "000000000000"
    return "%s_%s_%s" % (a_part, b_hash, c_hash), "%s_%s_%s" % (a_part, cs, c_raw)


def main():
    trim = "--trim" in sys.argv
    for path in [a for a in sys.argv[1:] if a != "--trim"]:
        data = open(path, "rb").read()
        end, hs = records(data)
        if trim:
            open(path, "wb").write(data[:end])
        h = parse(hs)
        s, m = ja3(h)
        j4, j4r = ja4(h)
        print(path)
        print("  bytes  ", end, "sni", h["sni"], "alpn", h["alpn"])
        print("  ja3    ", s)
        print("  ja3md5 ", m)
        print("  ja4    ", j4)
        print("  ja4_r  ", j4r)


if __name__ == "__main__":
    main()
