"""Every text the app's scripts show, translated on the server (the scripts carry none).

The template writes them as a JSON island (``m-labels``); ``t(key, {name: value})`` in
static/mobile/js/core.js fills the {placeholders}. Keys are the scripts' names for them.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

LABELS = {
    # the top bar, the queue and the connection
    "online": _("Online"),
    "offline": _("Offline"),
    "queueBadge": _("Send queue: {n} waiting, {conflicts} need you"),
    "signIn": _("Sign in"),
    "signInAgain": _("Your sign-in has expired: sign in again."),
    "signInAgainQueued": _("Your sign-in has expired. Sign in again: nothing waiting is lost."),
    "savedCopy": _("No connection: showing what was saved when you were last online."),
    "offlineNoCopy": _("No connection, and nothing saved from before for this screen."),
    "loadFailed": _("This could not be loaded."),
    "mapUnavailable": _("The map cannot be shown on this phone."),
    "sending": _("Sending…"),
    "queuedOffline": _("Saved on the phone: it will be sent when the connection returns."),
    "conflict": _("The server refused this."),
    "open": pgettext_lazy("button", "Open"),
    "openQueue": _("Open the send queue"),
    "draftRestored": _("What you typed before has been put back."),
    # the queue screen
    "queueSummary": _("{n} waiting to be sent; {conflicts} need you."),
    "queueEmpty": _("Nothing is waiting: everything has been sent."),
    "stateWaiting": _("Waiting to be sent"),
    "stateSending": _("Sending now…"),
    "stateOffline": _("Waiting for a connection"),
    "stateRetryAt": _("No connection; trying again at {time}"),
    "stateServerError": _("The server failed ({status}); trying again at {time}"),
    "retry": _("Send again"),
    "retryWithCurrent": _("Send again on the case as it is now"),
    "openCase": _("Open the case"),
    "moveNoLongerPossible": _("This move is no longer possible: the case is now {state}."),
    "needConnection": _("This needs a connection."),
    "continuePatrol": _("Continue the running patrol"),
    "discard": _("Discard"),
    "discardSure": _("Tap again to discard"),
    "replayed": _("already there (sent once)"),
    "nothingSent": _("Nothing sent from this phone lately."),
    "photosN": _("{n} photos"),
    "error_patrol_not_started": _("The start of its patrol was refused or discarded."),
    "kindReport": pgettext_lazy("a case reported", "Report"),
    "kindResolve": _("Resolved on the spot"),
    "kindMove": _("Move on a case"),
    "kindPatrolStart": _("Patrol start"),
    "kindPatrolPoints": _("Track points"),
    "kindPatrolStop": _("Patrol stop"),
    "kindCheckin": _("Check-in"),
    "kindInspection": _("Inspection"),
    "kindInspectionCase": _("Case from an inspection"),
    "queuePoints": _("{n} track points · {grid}"),
    "queuePatrolStart": _("Patrol started · {grid}"),
    "queuePatrolStop": _("Patrol stopped · {grid}"),
    "queueCheckin": _("Check-in · {place}"),
    "queueInspection": _("Inspection · {item}"),
    "queueRaiseCase": _("Raise a case · {checkpoint}"),
    # positions, distances, times
    "positionAccuracy": _("Your position, accurate to {accuracy} m"),
    "positionUnavailable": _("Your position is not available: allow it for this site, or go outside."),
    "positionTapMap": _("Your position is not available: tap the map where it is."),
    "positionOnMap": _("The point you put on the map"),
    "positionRequired": _("A position is needed: wait for it, or tap the map."),
    "metres": _("{n} m"),
    "kilometres": _("{n} km"),
    "hoursMinutes": _("{h} h {m} min"),
    "minutesSeconds": _("{m} min {s} s"),
    "dueBy": _("Due {time}"),
    "overdue": _("overdue"),
    # to-do and a case
    "nothingToDo": _("Nothing to do here."),
    "moveQueued": _("move queued"),
    "noCaseChosen": _("No case chosen: open one from the to-do list."),
    "unclassified": _("not classified yet"),
    "noteRequired": _("Say what is still wrong: a failed check needs a note."),
    "moveSent": _("Done: the case has moved on."),
    # reporting
    "textRequired": _("Say what the matter is."),
    "classRequired": _("Choose the class of the matter."),
    "beforeAfterRequired": _("Resolving on the spot needs a photo before and one after."),
    "photosBusy": _("The photos are still being prepared; send again in a moment."),
    "photoN": _("Photo {n}"),
    "removePhoto": _("Remove this photo"),
    "reportArrived": _("Arrived as case {number}"),
    # patrols and check-ins
    "patrolRunning": _("A patrol is running"),
    "patrolActiveElsewhere": _("A patrol of yours is still running"),
    "patrolStillRunning": _("A patrol you started at {time} in {grid} is still running."),
    "noPlaces": _("No key places in your grids."),
    "noPatrols": _("No patrols yet."),
    "checkIn": _("Check in"),
    "distanceOfRadius": _("{distance} away (check-in within {radius})"),
    "checkinAccepted": _("Checked in, {distance} from the place"),
    "checkinOutside": _("Refused: you are {distance} from the place; check in within {radius}."),
    "coverageShort": _("coverage {share}"),
    # inspections
    "resultPass": pgettext_lazy("checkpoint", "Pass"),
    "resultFail": pgettext_lazy("checkpoint", "Fail"),
    "resultNa": pgettext_lazy("checkpoint", "N/A"),
    "checkpointNote": _("Note on this point"),
    "raiseCase": _("Raise a case"),
    "answerEveryCheckpoint": _("{n} checkpoints have no answer yet."),
    "inspectionSent": _("Inspection recorded: {failed} failed, {cases} cases raised."),
    "caseRaised": _("Case {number}"),
    "taskGone": _("This task is no longer yours or is done."),
    "chooseGrid": _("Choose the grid first."),
    "noMatches": _("No matches."),
}


def labels() -> dict[str, str]:
    return {key: str(value) for key, value in LABELS.items()}
