#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A person at the guest's serial console, for tests/qemu/lib.sh.

    serial-answer.py SOCKET LOG ANSWERS

Connects to QEMU's console socket (QEMU waits for it: server=on,wait=on),
appends everything the guest prints to LOG, and types each answer of the
ANSWERS file, a line "TEXT<TAB>ANSWER" each, once TEXT has appeared in the
output, followed by a carriage return. Each answer is typed once, in file
order. Ends when QEMU closes the socket (the guest powered off); bounded
by the caller's timeout.
"""
import socket
import sys
import time


def main():
    path, log, answers_file = sys.argv[1:4]
    with open(answers_file, encoding="utf-8") as f:
        answers = [l.rstrip("\n").split("\t", 1) for l in f if "\t" in l]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + 30
    while True:
        try:
            s.connect(path)
            break
        except OSError:
            if time.monotonic() > deadline:
                print("serial-answer: no console socket at %s" % path, file=sys.stderr)
                return 1
            time.sleep(0.05)
    seen = b""
    with open(log, "ab") as out:
        while True:
            data = s.recv(4096)
            if not data:
                return 0
            out.write(data)
            out.flush()
            seen += data
            while answers and answers[0][0].encode() in seen:
                text, answer = answers.pop(0)
                # Only what follows the prompt may trigger the next answer.
                seen = seen[seen.index(text.encode()) + len(text):]
                time.sleep(0.2)
                s.sendall(answer.encode() + b"\r")


if __name__ == "__main__":
    sys.exit(main())
