"""Every custom method, command and parameter name the editors depend on. Editors use only these."""

# Requests (client → server)
REASON = (
    "ponder/reason"  # {textDocument:{uri}, range?|position?, question?, options?, workDoneToken?}
)
ACCEPT = "ponder/accept"  # {id, answer?, note?} → Stored
REJECT = "ponder/reject"  # {id} → Stored
CHECK = "ponder/check"  # {textDocument:{uri}, id} → Check {verdict, actual, explanation}
DEBUG_MODULES = "ponder/debug/modules"  # {} → {loaded: [heavy modules imported so far]}
STATUS = "ponder/status"  # {} → {version, model, modelLoaded, gpuOffload, memoryPath, settings}

# workspace/executeCommand commands
COMMAND_REASON = "ponder.reason"  # arguments: [reason params]; the answer shows inline
COMMAND_ACCEPT = "ponder.acceptAnswer"  # arguments: [{id, answer?, note?}] as ponder/accept
COMMAND_REJECT = "ponder.rejectAnswer"  # arguments: [{id}] as ponder/reject
COMMAND_CHECK = "ponder.checkAnswer"  # arguments: [{textDocument, id}] as ponder/check

CODE_ACTION_TITLE = "Ponder: reason about this"
ACCEPT_TITLE = "Ponder: accept answer"
REJECT_TITLE = "Ponder: reject answer"
ASK_AGAIN_TITLE = "Ponder: ask again with more samples"
CHECK_TITLE = "Ponder: check by running"

# Partial results of ponder/reason (when the request has a partialResultToken): $/progress
# {token, value: {reasoning: the next piece}}; the pieces join into the reasoning written so far.
# On a CPU's schedule (greedy path first) one more: {token, value: {firstAnswer: its answer}},
# before the other paths run.
# The final result is the whole answer; its rationale continues what was streamed when the
# streamed path (path 0, the greedy one) gives the winning answer. (A path that ends without an
# answer tag is the exception: its last line, streamed as reasoning, becomes the answer.)

# Results are typed in agent/results.py and written as camelCase JSON by server/wire.py only:
# ponder/reason → Answer {id, answer, confidence, uncalibrated, signal, agreement, verdict,
# principle, rationale, candidates, memories, usage, model, strategy}; ponder/accept and
# ponder/reject → Stored {memoryId, updated}. tests/test_wire.py holds each shape.
