#!/usr/bin/env python3
"""The emulator under hostile clients: its memory and its service to normal clients while 1,000
slowloris connections (half a request head, then a byte every few seconds) and 900 stalled bodies
(300 chunked ones of 2 MB that stop after 1.9 MB, 300 that announce 2 MB with Content-Length and
send nothing, and 300 that announce 60 kB, under the body limit, and stop half-way) hang on it; then whether its memory returns to the baseline once its timeouts have
closed them.

Usage: bench/emulator/hostile.py [path/to/boxauth]   (default target/release/boxauth)
Prints VmRSS every second, the latency of one normal token request a second (all must be 200),
and the verdict, for several waves of the same attack (WAVES, default 3). Exit 0 when every
normal request succeeded, the peak stayed under MAX_PEAK_MIB, and RSS came back within
BASELINE_SLACK_MIB of the wave's baseline once the server had closed every attacker.
Standard library only.
"""
import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

SLOWLORIS = 1000
STALLED_CHUNKED = 300
STALLED_ANNOUNCED = 300
STALLED_SMALL = 300
HEADER_TIMEOUT = 10
REQUEST_TIMEOUT = 30
MAX_PEAK_MIB = 128
# "Back to the baseline": within this much of the RSS before the wave (what the allocator keeps for
# its own bookkeeping, and the pages the first requests touched).
BASELINE_SLACK_MIB = 2
CCG = (b'grant_type=client_credentials&client_id=boxauthemulatorclientid000000001'
       b'&client_secret=BoxAuthEmulatorClientSecret00001&box_subject_type=enterprise'
       b'&box_subject_id=100000001')


def rss_kib(pid):
    with open(f'/proc/{pid}/status') as status:
        return int(re.search(r'VmRSS:\s+(\d+)', status.read()).group(1))


def token_request(base):
    started = time.monotonic()
    request = urllib.request.Request(f'{base}/oauth2/token', data=CCG, headers={
        'Content-Type': 'application/x-www-form-urlencoded'})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=15) as answer:
        ok = answer.status == 200 and b'access_token' in answer.read()
    return ok, (time.monotonic() - started) * 1000


async def slowloris(host, port, closed):
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b'POST /oauth2/token HTTP/1.1\r\nHost: x\r\nX-Slow: a')
        await writer.drain()
        while True:
            try:
                if not await asyncio.wait_for(reader.read(1024), 3):
                    break  # the server closed it
            except asyncio.TimeoutError:
                writer.write(b'a')  # one more byte of an endless header
                await writer.drain()
    except (ConnectionError, OSError):
        pass
    closed.append(time.monotonic())


async def stalled_body(host, port, closed, chunked, small=False):
    try:
        reader, writer = await asyncio.open_connection(host, port)
        if chunked:
            writer.write(b'POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: '
                         b'application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n')
            chunk = b'a' * 65536
            for _ in range(29):  # ~1.9 MB
                writer.write(b'10000\r\n' + chunk + b'\r\n')
                await writer.drain()
        elif small:  # under the body limit: held until the request timeout
            writer.write(b'POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: '
                         b'application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n'
                         + b'a' * 30000)
        else:
            writer.write(b'POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: '
                         b'application/x-www-form-urlencoded\r\nContent-Length: 2000000\r\n\r\n')
            await writer.drain()
        while await reader.read(65536):
            pass
    except (ConnectionError, OSError):
        pass
    closed.append(time.monotonic())


async def attack(base, pid):
    host, port = re.match(r'https?://([^:]+):(\d+)', base).groups()
    port = int(port)
    baseline = rss_kib(pid)
    print(f'baseline VmRSS {baseline} KiB')
    closed = []
    started = time.monotonic()
    tasks = [asyncio.create_task(slowloris(host, port, closed)) for _ in range(SLOWLORIS)]
    tasks += [asyncio.create_task(stalled_body(host, port, closed, True)) for _ in range(STALLED_CHUNKED)]
    tasks += [asyncio.create_task(stalled_body(host, port, closed, False)) for _ in range(STALLED_ANNOUNCED)]
    tasks += [asyncio.create_task(stalled_body(host, port, closed, False, True)) for _ in range(STALLED_SMALL)]
    total = len(tasks)
    peak, failures, latencies = baseline, 0, []
    all_closed_at, back_after = None, None
    loop = asyncio.get_running_loop()
    deadline = started + REQUEST_TIMEOUT + HEADER_TIMEOUT + 10
    while time.monotonic() < deadline:
        await asyncio.sleep(1)
        try:
            ok, ms = await loop.run_in_executor(None, token_request, base)
        except Exception as error:  # a refused or timed-out normal request is a failure
            ok, ms = False, float('nan')
            print(f'   normal request failed: {error}')
        failures += 0 if ok else 1
        latencies.append(ms)
        rss = rss_kib(pid)
        peak = max(peak, rss)
        print(f'{time.monotonic() - started:5.1f} s  VmRSS {rss:7d} KiB  open attackers '
              f'{total - len(closed):4d}  normal request {ms:6.1f} ms {"ok" if ok else "FAILED"}')
        if len(closed) == total:
            all_closed_at = all_closed_at or time.monotonic()
            if rss <= baseline + BASELINE_SLACK_MIB * 1024:
                back_after = time.monotonic() - started
                break
            if time.monotonic() - all_closed_at > 10:
                break  # all closed, and still above the baseline 10 s later
    closed_after = (max(closed) - started) if closed else float('nan')
    for task in tasks:
        task.cancel()
    await asyncio.sleep(1)
    end = rss_kib(pid)
    latencies.sort()
    print(f'\nattackers: {SLOWLORIS} slowloris, {STALLED_CHUNKED} stalled chunked bodies, '
          f'{STALLED_ANNOUNCED} announced-but-unsent bodies, {STALLED_SMALL} half-sent small ones; '
          f'closed by the server: {len(closed)} (the last {closed_after:.1f} s after the attack began)')
    print(f'VmRSS: baseline {baseline} KiB, peak {peak} KiB, end {end} KiB '
          f'({(end - baseline) / 1024:+.1f} MiB)')
    print('back within {} MiB of the baseline: {}'.format(
        BASELINE_SLACK_MIB, 'no' if back_after is None else f'{back_after:.1f} s after the attack began'))
    print(f'normal requests: {len(latencies)}, failed {failures}, '
          f'p50 {latencies[len(latencies) // 2]:.1f} ms, max {latencies[-1]:.1f} ms')
    ok = failures == 0 and peak / 1024 <= MAX_PEAK_MIB and back_after is not None
    print('verdict:', 'ok' if ok else 'NOT OK')
    return 0 if ok else 1


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else 'target/release/boxauth'
    process = subprocess.Popen(
        [binary, 'emulator', '--addr', '127.0.0.1:0', '--header-timeout', str(HEADER_TIMEOUT),
         '--request-timeout', str(REQUEST_TIMEOUT), '--max-connections', '4096'],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    base = re.search(r'(http://127\.0\.0\.1:\d+)', process.stdout.readline()).group(1)
    try:
        token_request(base)
        # Several waves (WAVES, default 3): the later ones show whether what the first left (memory the allocator keeps
        # for reuse) grows.
        code = 0
        for wave in range(1, int(os.environ.get('WAVES', '3')) + 1):
            print(f'\n== wave {wave}')
            code |= asyncio.run(attack(base, process.pid))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    sys.exit(code)


if __name__ == '__main__':
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    main()
