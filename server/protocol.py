"""Every custom method, command and parameter name the editors depend on. Editors use only these."""

# Requests (client → server)
REASON = (
    "ponder/reason"  # {textDocument:{uri}, range?|position?, question?, options?, workDoneToken?}
)
ACCEPT = "ponder/accept"  # {id, answer?, note?} → {memoryId}
REJECT = "ponder/reject"  # {id} → {memoryId}
STATUS = "ponder/status"  # {} → {version, model, modelLoaded, gpuOffload, memoryPath, settings}

# workspace/executeCommand commands
COMMAND_REASON = "ponder.reason"  # arguments: [reason params]; result also shown to the user

CODE_ACTION_TITLE = "Ponder: reason about this"

# Result of ponder/reason:
# {id, answer, confidence (calibrated), agreement:{agree, paths}, verdict: confident|uncertain,
#  principle, rationale, candidates:[{answer, count}],
#  memories:[{id, question, answer, similarity}], usage:{promptTokens, completionTokens, seconds},
#  model, strategy}
