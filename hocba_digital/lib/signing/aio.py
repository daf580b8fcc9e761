"""Running pyHanko's coroutines from synchronous code."""

import asyncio
import concurrent.futures


def run_sync(coro):
    """Run ``coro`` to completion from synchronous code (loop or no loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
