"""RFC 2920 pipelining: replies in order, batched where the client batched."""
import socket
import threading
import time

from lib import Client, check, daemon, wait_for


def recv_all(c, want, timeout=10):
    c.sock.settimeout(timeout)
    end = time.time() + timeout
    data = b""
    while data.count(b"\r\n") < want and time.time() < end:
        chunk = c.sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_whole_transaction_in_one_write():
    with daemon() as d:
        c = Client(d.port)
        c.expect(220)
        c.send("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n"
               "RCPT TO:<b@mailetd.test>\r\nRCPT TO:<x@elsewhere.example>\r\n"
               "RCPT TO:<c@mailetd.test>\r\nDATA\r\nSubject: p\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        c.buf = b""
        codes = []
        while True:
            code, lines = c.read_reply()
            codes.append(code)
            if code == 221:
                break
        check(codes == [250, 250, 250, 550, 250, 354, 250, 221], codes)
        ids = wait_for(d.spool_ids)
        check(len(ids) == 1, ids)


def test_pipelined_replies_come_in_one_packet():
    with daemon() as d:
        c = Client(d.port)
        c.expect(220)
        c.cmd("EHLO client.example", 250)
        c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@mailetd.test>\r\n"
               "RCPT TO:<c@mailetd.test>\r\nNOOP\r\n")
        time.sleep(0.5)
        c.sock.settimeout(5)
        first = c.sock.recv(65536)
        check(first.count(b"\r\n") == 4, "replies split across reads: %r" % first)
        c.close()


def test_all_rcpts_rejected_then_data_503():
    with daemon() as d:
        c = Client(d.port)
        c.expect(220)
        c.send("HELO client.example\r\nMAIL FROM:<a@example.org>\r\n"
               "RCPT TO:<x@elsewhere.example>\r\nRCPT TO:<y@elsewhere.example>\r\nDATA\r\n")
        codes = [c.read_reply()[0] for _ in range(5)]
        check(codes == [250, 250, 550, 550, 503], codes)
        c.cmd("QUIT", 221)


def test_second_large_message_pipelined_behind_a_commit():
    # While the first message commits, the second one piles up in the input
    # buffer in many segments; all of it must be processed without new input.
    with daemon(maxsize="10M") as d:
        c = Client(d.port)
        c.expect(220)
        c.cmd("EHLO client.example", 250)
        body = b"Subject: big\r\n\r\n" + (b"z" * 998 + b"\r\n") * 3000
        one = (b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@mailetd.test>\r\nDATA\r\n" +
               body + b".\r\n")
        c.send(one + one + b"QUIT\r\n")
        codes = []
        while True:
            code, lines = c.read_reply()
            codes.append(code)
            if code == 221:
                break
        check(codes == [250, 250, 354, 250] * 2 + [221], codes)
        check(len(wait_for(lambda: len(d.spool_ids()) == 2 and d.spool_ids())) == 2, "spool")



def test_replies_the_socket_cannot_take_at_once_all_arrive():
    # Replies are written straight to the socket at the end of a processing
    # pass (session_out.c). A client that sends a great many commands before
    # it reads must still get every reply, in order, once it reads, and the
    # session must go on normally afterwards. (On loopback the kernel's
    # buffers grow large enough that this rarely leaves output for the
    # bufferevent to finish; test_exhaustion's unread-NOOP test reaches that.)
    n = 100000  # 1.4 MB of "250 2.0.0 OK" replies
    with daemon(timeout=30) as d:
        c = Client(d.port)
        c.expect(220)
        c.cmd("EHLO client.example", 250)
        sender = threading.Thread(target=c.sock.sendall, args=(b"NOOP\r\n" * n,))
        sender.start()
        time.sleep(1.0)  # not reading yet: the daemon's replies back up
        c.sock.settimeout(20)
        chunks, count, end = [], 0, time.time() + 60
        while count < n and time.time() < end:
            chunk = c.sock.recv(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            count += chunk.count(b"\r\n")
        sender.join(20)
        lines = b"".join(chunks).split(b"\r\n")[:-1]
        check(len(lines) == n, "%d of %d replies, first %r last %r" % (len(lines), n, lines[:1], lines[-2:]))
        check(all(line.startswith(b"250 ") for line in lines), "a reply was not 250")
        c.buf = b""
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<b@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.cmd("Subject: after\r\n\r\nbody\r\n.", 250)
        c.cmd("QUIT", 221)
        ids = wait_for(d.spool_ids)
        check(len(ids) == 1, ids)
