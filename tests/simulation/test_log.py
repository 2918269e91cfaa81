"""InteractionLog: append-only JSONL, flushed per step, readable after a crash."""

import json

import pytest

from socialsim.core.messages import Mailroom, Message
from socialsim.simulation.log import InteractionLog, flatten_events, read_events


def test_emit_flush_read_roundtrip(tmp_path):
    log = InteractionLog(tmp_path / "events.jsonl", "r1")
    log.emit("message", step=1, agent=0, target=2, claim="c1", payload={"text": "<b>hi</b>"})
    assert (tmp_path / "events.jsonl").read_text() == ""  # buffered until flush
    log.flush()
    log.emit("belief_change", step=1, agent=2, claim="c1", payload={"old": 0.1, "new": 0.9})
    log.close()
    df = read_events(tmp_path / "events.jsonl")
    assert list(df["kind"]) == ["message", "belief_change"]
    assert df.loc[0, "payload"]["text"] == "<b>hi</b>"
    flat = flatten_events(df)
    assert "payload.text" in flat.columns and "payload.new" in flat.columns


def test_lines_taken_since_a_mark_go_back_after_later_ones_and_flushed_ones_stay():
    log = InteractionLog(None, "r")
    log.emit("decision", step=1, agent=0)
    mark = log.mark()
    log.emit("decision", step=1, agent=1)
    log.emit("message", step=1, agent=1)
    taken = log.take(mark)
    log.emit("llm_call", step=1, agent=1)
    log.extend(taken)
    log.flush()
    agents_kinds = [
        (json.loads(line)["agent"], json.loads(line)["kind"]) for line in log.sink.lines
    ]
    assert agents_kinds == [(0, "decision"), (1, "llm_call"), (1, "decision"), (1, "message")]
    mark = log.mark()
    log.emit("decision", step=2, agent=5)
    log.flush()  # what was flushed since the mark stays in place; later lines are taken
    log.emit("decision", step=2, agent=6)
    assert [json.loads(line)["agent"] for line in log.take(mark)] == [6]
    assert log.take(log.mark()) == [] and log.counts["decision"] == 4


def test_unknown_kind_rejected(tmp_path):
    log = InteractionLog(tmp_path / "e.jsonl", "r")
    with pytest.raises(ValueError, match="unknown event kind"):
        log.emit("gossip", step=0)


def test_truncated_last_line_is_skipped(tmp_path):
    path = tmp_path / "e.jsonl"
    good = json.dumps(
        {
            "run": "r",
            "step": 1,
            "time": 1,
            "kind": "decision",
            "agent": 0,
            "target": None,
            "claim": None,
            "payload": {},
        }
    )
    path.write_text(good + "\n" + good[:20])
    assert len(read_events(path)) == 1


def test_log_is_append_only(tmp_path):
    path = tmp_path / "e.jsonl"
    for _ in range(2):
        log = InteractionLog(path, "r")
        log.emit("action", step=0, payload={"type": "x"})
        log.close()
    assert len(path.read_text().splitlines()) == 2


def test_mailroom_step_and_latency_delivery():
    mail = Mailroom()
    mail.send(Message(id=mail.next_id(), sender=0, recipients=[1, 2], step=1, text="a"))
    mail.send(
        Message(id=mail.next_id(), sender=1, recipients=[0], step=1, text="b", deliver_at=2.5)
    )
    due = mail.deliver(now=2.0)
    assert [m.text for m in due] == ["a"]
    assert [m.text for m in mail.take_inbox(1)] == ["a"] and mail.take_inbox(1) == []
    assert mail.deliver(now=3.0)[0].text == "b"
    assert mail.peek_inbox(0)[0].id == "m2"


@pytest.mark.parametrize(("durable", "expected"), [(False, 1), (True, 3)])
def test_fsync_every_flush_only_when_durable(tmp_path, monkeypatch, durable, expected):
    import os

    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    log = InteractionLog(tmp_path / "e.jsonl", "r", durable=durable)
    for step in (1, 2):
        log.emit("probe", step=step)
        log.flush()
        assert len((tmp_path / "e.jsonl").read_text().splitlines()) == step  # in the file now
    log.close()
    assert len(synced) == expected  # close always syncs


def test_emit_many_writes_what_emit_writes(tmp_path):
    import numpy as np

    one = InteractionLog(tmp_path / "one.jsonl", "run 5% é")
    many = InteractionLog(tmp_path / "many.jsonl", "run 5% é")
    agents = np.array([0, 5, 7])
    old = np.array([0.1, float("nan"), 1 / 3])
    new = [0.9, None, np.float32(0.5)]
    source = np.ma.masked_less(np.array([-1, 3, 4]), 0)
    for i in range(3):
        target = None if source.mask[i] else int(source.data[i])
        one.emit(
            "belief_change",
            step=2,
            time=2.0000001,
            agent=int(agents[i]),
            target=target,
            claim="c%s",
            payload={"old": float(old[i]), "new": new[i], "cause": "rule", "ok": True},
        )
    many.emit_many(
        "belief_change",
        step=2,
        time=2.0000001,
        agent=agents,
        target=source,
        claim="c%s",
        payload={"old": old, "new": new, "cause": "rule", "ok": True},
    )
    one.emit("action", step=1)
    many.emit_many("action", step=1)
    many.emit_many("action", step=1, agent=np.array([], dtype=int))  # nothing
    one.close()
    many.close()
    text = (tmp_path / "many.jsonl").read_text(encoding="utf-8")
    assert text == (tmp_path / "one.jsonl").read_text(encoding="utf-8")
    assert many.counts["belief_change"] == 3 and many.counts["action"] == 1
    lines = text.splitlines()
    assert '"target": null' in lines[0] and '"target": 3' in lines[1]


def test_emit_many_rejects_uneven_columns_and_unknown_kinds(tmp_path):
    log = InteractionLog(tmp_path / "e.jsonl", "r")
    with pytest.raises(ValueError, match="different lengths"):
        log.emit_many("probe", step=0, agent=[1, 2], payload={"x": [1]})
    with pytest.raises(ValueError, match="unknown event kind"):
        log.emit_many("gossip", step=0, agent=[1])
