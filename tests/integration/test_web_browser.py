"""The example web host in a real browser: a buyer and a seller, each in a browser
context of their own, play an order through the pages, as people would.

Set ``ORDER_LIFECYCLE_SCREENSHOTS=DIR`` to keep the pages' screenshots in ``DIR`` (the
ones in ``docs/`` were taken this way).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect

from order_lifecycle import Action, Listing, ManualClock, Money, OrderDesk

from browser import chromium, serve

T0 = pendulum.datetime(2026, 12, 1, 9, 30, tz="UTC")
#: Live update polls every two seconds; a loaded test machine gets some slack.
WAIT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """The system Chromium, once for the module."""
    with chromium() as opened:
        yield opened


@pytest.fixture
def clock() -> ManualClock:
    """The desk's clock: it moves only when the test says so."""
    return ManualClock(T0)


@pytest.fixture
def desk(clock: ManualClock) -> Iterator[OrderDesk]:
    """A desk in memory, shared by the server's threads."""
    with OrderDesk.open("memory://", clock=clock) as opened:
        yield opened


@pytest.fixture
def base_url(desk: OrderDesk) -> Iterator[str]:
    """The web host, served on a free port while the test runs."""
    with serve(desk) as url:
        yield url


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where the screenshots go: ``$ORDER_LIFECYCLE_SCREENSHOTS``, else a temporary folder."""
    folder = Path(os.environ.get("ORDER_LIFECYCLE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def person(browser: Browser, base_url: str, user: str) -> Page:
    """A page in a browser context of its own (its own cookies), signed in as ``user``."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1180, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto("/")
    page.get_by_label("User id").fill(user)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    return page


def state_is(page: Page, state: str) -> None:
    """The page shows the order in ``state`` (without reloading it)."""
    expect(page.locator("#state")).to_have_text(state, timeout=WAIT_MS)


def test_buyer_and_seller_play_an_order_in_two_browsers(
    browser: Browser, base_url: str, desk: OrderDesk, clock: ManualClock, shots: Path
) -> None:
    """Place, accept, deliver with an upload, revision, deliver again, approve: each
    party's page follows the other's moves live; a disabled button shows its reason; bad
    input shows a clear error and changes nothing."""
    alice = person(browser, base_url, "alice")
    bob = person(browser, base_url, "bob")

    # alice places an order from her inbox.
    place = alice.locator("#place")
    place.get_by_label("Seller").fill("bob")
    place.get_by_label("Title").fill("Logo for a coffee shop")
    place.get_by_label("Price").fill("80.00")
    place.get_by_label("Delivery days").fill("3")
    place.get_by_label("Revisions").fill("1")
    place.get_by_role("button", name="Place order").click()
    expect(alice).to_have_url(re.compile(r"/orders/ord_\w+$"))
    order_id = alice.url.rsplit("/", 1)[1]
    state_is(alice, "pending")
    expect(alice.locator("ol.chat li.notice")).to_have_count(1)

    # A disabled button shows its reason: alice cannot approve what is not delivered.
    approve = alice.locator("#action-approve button")
    expect(approve).to_be_disabled()
    reason = next(
        o.reason for o in desk.actions(order_id, viewer="alice") if o.action is Action.approve
    )
    assert reason
    expect(alice.locator("#why-approve")).to_have_text(reason)
    expect(approve).to_have_attribute("title", reason)

    # bob's inbox: one unread entry, and it is his move (dana's order waits on him too).
    listing = Listing("Business cards", Money("45.00", "USD"), pendulum.duration(days=5), 2)
    other = desk.place(buyer="dana", seller="bob", listing=listing).id
    desk.accept(other, by="bob")
    desk.mark_read(other, by="bob")
    desk.say(other, by="dana", text="Could you use the new logo on the back?")
    bob.reload()
    row = bob.locator(f'tr[data-order="{order_id}"]')
    expect(row.locator(".unread")).to_have_text("1")
    expect(row.locator(".move")).to_have_text("your move")
    expect(bob.locator(f'tr[data-order="{other}"] .unread')).to_have_text("1")
    bob.screenshot(path=str(shots / "web-inbox.png"))
    row.get_by_role("link", name="Logo for a coffee shop").click()
    state_is(bob, "pending")
    expect(bob.locator("#next-step")).to_contain_text("accept")

    # bob accepts; alice's page follows without a reload.
    clock.advance(hours=1)
    bob.locator("#action-accept").get_by_role("button", name="Accept").click()
    state_is(bob, "accepted")
    state_is(alice, "accepted")

    # They chat through the message box.
    alice.get_by_label("Message").fill("Warm colours, please <3")
    alice.get_by_role("button", name="Send").click()
    expect(bob.locator("ol.chat li.message")).to_have_text(re.compile("Warm colours, please <3"))

    # Bad input: a delivery without a file, and without saying it is elsewhere.
    deliver = bob.locator("#action-deliver")
    deliver.get_by_role("button", name="Deliver").click()
    expect(bob.locator("#error")).to_contain_text("a delivery needs at least one file")
    assert desk.get(order_id).state.value == "accepted"

    # bob delivers a file he uploads; alice sees it arrive.
    clock.advance(hours=5)
    deliver = bob.locator("#action-deliver")
    upload: FilePayload = {
        "name": "logo-v1.png",
        "mimeType": "image/png",
        "buffer": b"\x89PNG first draft",
    }
    deliver.locator("input[type=file]").set_input_files([upload])
    deliver.get_by_label("Note").fill("First draft")
    deliver.get_by_role("button", name="Deliver").click()
    state_is(bob, "delivered")
    state_is(alice, "delivered")
    expect(alice.locator(".deliveries")).to_contain_text("logo-v1.png")
    (delivered,) = desk.get(order_id).deliveries
    assert [(f.name, f.size) for f in delivered.files] == [("logo-v1.png", 16)]
    alice.screenshot(path=str(shots / "web-order-page.png"), full_page=True)

    # Bad input: a revision with an empty note is refused with the field and the reason.
    revise = alice.locator("#action-request_revision")
    revise.get_by_label("Note").fill("   ")
    revise.get_by_role("button", name="Request revision").click()
    expect(alice.locator("#error")).to_contain_text("Note: must not be empty")
    assert desk.get(order_id).state.value == "delivered"
    alice.screenshot(path=str(shots / "web-error.png"))

    # alice asks for a revision; bob's page follows without a reload.
    clock.advance(hours=2)
    revise = alice.locator("#action-request_revision")
    revise.get_by_label("Note").fill("Bluer, please")
    revise.get_by_role("button", name="Request revision").click()
    state_is(alice, "revision")
    state_is(bob, "revision")
    expect(bob.locator("ol.chat")).to_contain_text("Bluer, please")

    # bob delivers again, this time outside the platform.
    clock.advance(hours=3)
    deliver = bob.locator("#action-deliver")
    deliver.get_by_label("Outside").check()
    deliver.get_by_role("button", name="Deliver").click()
    state_is(bob, "delivered")
    state_is(alice, "delivered")

    # alice approves: the order is complete for both.
    clock.advance(hours=1)
    alice.locator("#action-approve").get_by_role("button", name="Approve").click()
    state_is(alice, "complete")
    state_is(bob, "complete")
    assert desk.get(order_id).state.value == "complete"
    bob.goto("/inbox")
    expect(bob.locator(f'tr[data-order="{order_id}"] .state')).to_have_text("complete")
    assert (shots / "web-order-page.png").stat().st_size > 10_000


def test_a_cx_agent_settles_a_dispute_while_the_buyer_types(
    browser: Browser, base_url: str, desk: OrderDesk, clock: ManualClock, shots: Path
) -> None:
    """The buyer disputes from the page; a CX agent opens the order by id, joins and
    resolves it. The buyer's page follows, but the form she is typing in is not redrawn
    under her: she is told the order changed instead."""
    listing = Listing("Podcast edit", Money("120.00", "USD"), pendulum.duration(days=2), 1)
    order_id = desk.place(buyer="alice", seller="bob", listing=listing).id
    desk.accept(order_id, by="bob")
    clock.advance(days=3)  # past due, nothing delivered
    alice = person(browser, base_url, "alice")
    alice.goto(f"/orders/{order_id}")
    dispute = alice.locator("#action-dispute")
    dispute.get_by_label("Reason").fill("Two days late and no word from bob.")
    dispute.get_by_role("button", name="Dispute").click()
    state_is(alice, "disputed")

    carol = person(browser, base_url, "cx:carol")
    carol.get_by_label("Order id").fill(order_id)
    carol.get_by_role("button", name="Open").click()
    expect(carol.locator(".notice").first).to_have_text("Join the conversation to read the chat.")
    carol.locator("#action-join").get_by_role("button", name="Join").click()
    expect(carol.locator("ol.chat")).to_contain_text("Two days late and no word from bob.")

    # alice starts typing a message; carol's join reaches her page, her text stays.
    alice.get_by_label("Message").fill("Thank you for looking into it")
    expect(alice.locator("ol.chat")).to_contain_text("carol", timeout=WAIT_MS)
    expect(alice.get_by_label("Message")).to_have_value("Thank you for looking into it")

    resolve = carol.locator("#action-resolve")
    resolve.get_by_label("Outcome").select_option("resume")
    resolve.get_by_label("Note").fill("bob delivers by Friday; alice agreed on the phone.")
    carol.screenshot(path=str(shots / "web-cx-agent.png"), full_page=True)
    resolve.get_by_role("button", name="Resolve").click()
    state_is(carol, "accepted")
    state_is(alice, "accepted")

    # Typing into an action's form keeps the actions as they are, and says the order changed.
    alice.locator("#action-cancel").get_by_label("Reason").fill("I would rather cancel")
    desk.say(order_id, by="bob", text="Sorry! Delivering tomorrow.")
    expect(alice.locator("ol.chat")).to_contain_text("Sorry! Delivering tomorrow.")
    expect(alice.locator("#changed")).to_be_visible()
    expect(alice.locator("#action-cancel").get_by_label("Reason")).to_have_value(
        "I would rather cancel"
    )
    assert desk.get(order_id).state.value == "accepted"
