"""CHUNKING / BDAT (RFC 3030)."""
from lib import Client, check, daemon, greet, wait_for


def test_bdat_chunks_make_one_message():
    with daemon() as d:
        c = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<b@mailetd.test>", 250)
        part1 = b"Subject: chunked\r\n\r\nfirst chunk\r\n"
        part2 = b"second chunk with a bare\nLF\r\n.\r\n"
        c.send(b"BDAT %d\r\n" % len(part1) + part1)
        code, l = c.read_reply()
        check(code == 250, l)
        c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
        code, l = c.read_reply()
        check(code == 250 and "2.6.0" in l[0], l)
        c.cmd("QUIT", 221)
        ids = wait_for(d.spool_ids)
        data = d.spool_cat(ids[0])
        check(data.endswith(part1 + b"second chunk with a bare\r\nLF\r\n.\r\n"), data)


def test_bdat_out_of_sequence_swallows_chunk():
    with daemon() as d:
        c = greet(d.port)
        c.send(b"BDAT 12\r\nNOOP\r\nNOOP\r\n")
        code, l = c.read_reply()
        check(code == 503, l)
        c.cmd("NOOP", 250)
        c.cmd("QUIT", 221)


def test_bdat_pipelined_with_zero_last_and_size_limit():
    with daemon(maxsize="1K") as d:
        c = greet(d.port)
        body = b"Subject: z\r\n\r\nhello\r\n"
        c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@mailetd.test>\r\n"
               b"BDAT %d\r\n" % len(body) + body + b"BDAT 0 LAST\r\n")
        codes = [c.read_reply()[0] for _ in range(4)]
        check(codes == [250, 250, 250, 250], codes)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<b@mailetd.test>", 250)
        big = b"x" * 2000
        c.send(b"BDAT 2000 LAST\r\n" + big)
        code, l = c.read_reply()
        check(code == 552, l)
        c.cmd("NOOP", 250)
        c.cmd("QUIT", 221)
        check(len(d.spool_ids()) == 1, d.spool_ids())


def test_bdat_bad_size_closes():
    with daemon() as d:
        c = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<b@mailetd.test>", 250)
        c.send(b"BDAT lots\r\n")
        code, l = c.read_reply()
        check(code == 501, l)
        check(c.closed(), "not closed after an unreadable BDAT")
