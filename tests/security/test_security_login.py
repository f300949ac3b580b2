"""Sign-in throttling over real HTTP: parallel guesses check no more passwords than the limit."""

from __future__ import annotations

import threading

import httpx
from seckit import CSRF_FIELD, PASSWORD
from sqlalchemy import func, select

from server.console import throttle
from server.models import AuditLog


def _guess(url: str, name: str, password: str, barrier: threading.Barrier, codes: list) -> None:
    with httpx.Client(base_url=url, timeout=30) as web:
        token = CSRF_FIELD.search(web.get("/login").text).group(1)
        barrier.wait()
        answer = web.post("/login", data={"name": name, "password": password, "csrf_token": token})
        codes.append(answer.status_code)


def test_forty_parallel_wrong_guesses_check_five_passwords(live_server, world, session):
    codes: list[int] = []
    barrier = threading.Barrier(40)
    threads = [
        threading.Thread(target=_guess, args=(live_server.url, "lead", f"guess-{i:04d}xx", barrier, codes))
        for i in range(40)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(codes)) == [401]
    session.expire_all()
    checked = session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == "auth.login_failed")
    )
    assert checked == throttle.MAX_FAILURES
    # and the right password is refused while the name is locked
    barrier = threading.Barrier(1)
    _guess(live_server.url, "lead", PASSWORD, barrier, codes)
    assert codes[-1] == 401
