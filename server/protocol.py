"""Every custom method, command and parameter name the editors depend on. Editors use only these."""

# Requests (client → server)
REASON = (
    "ponder/reason"  # {textDocument:{uri}, range?|position?, question?, options?, workDoneToken?}
)
ACCEPT = "ponder/accept"  # {id, answer?, note?} → {memoryId}
REJECT = "ponder/reject"  # {id} → {memoryId}
DEBUG_MODULES = "ponder/debug/modules"  # {} → {loaded: [heavy modules imported so far]}
STATUS = "ponder/status"  # {} → {version, model, modelLoaded, gpuOffload, memoryPath, settings}

# workspace/executeCommand commands
COMMAND_REASON = "ponder.reason"  # arguments: [reason params]; the answer shows inline
COMMAND_ACCEPT = "ponder.acceptAnswer"  # arguments: [{id, answer?, note?}] as ponder/accept
COMMAND_REJECT = "ponder.rejectAnswer"  # arguments: [{id}] as ponder/reject

CODE_ACTION_TITLE = "Ponder: reason about this"
ACCEPT_TITLE = "Ponder: accept answer"
REJECT_TITLE = "Ponder: reject answer"
ASK_AGAIN_TITLE = "Ponder: ask again with more samples"

# Partial results of ponder/reason (when the request has a partialResultToken): $/progress
# {token, value: {reasoning: the next piece}}; the pieces join into the reasoning written so far.
# On a CPU's schedule (greedy path first) one more: {token, value: {firstAnswer: its answer}},
# before the other paths run.
# The final result is the whole answer; its rationale continues what was streamed when the
# streamed path (path 0, the greedy one) gives the winning answer. (A path that ends without an
# answer tag is the exception: its last line, streamed as reasoning, becomes the answer.)

# Result of ponder/reason:
# {id, answer, confidence (calibrated, or null where no table covers the answer),
#  uncalibrated (why confidence is null, in words; else null),
#  signal:{kind: agreement|margin, value} (the raw signal: not a probability, never shown as one),
#  agreement:{agree, paths}, verdict: confident|uncertain|unchecked,
#  principle, rationale, candidates:[{answer, count}],
#  memories:[{id, question, answer, similarity}], usage:{promptTokens, completionTokens, seconds},
#  model, strategy}
