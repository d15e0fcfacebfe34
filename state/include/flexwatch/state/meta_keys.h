// The keys of the state's default column family: RocksDB's `default` (Cf::kDefault), named so in
// code and on disk. It holds the bookkeeping beside the data, each kind of key written by one
// module, listed here with its owner and its value. A new kind is added here; no other file
// builds these keys.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "flexwatch/core/time.h"

namespace flexwatch::meta_keys {

// --- state (the writer): part of what the state says ---
// "pos/<source>" -> the source's committed position (a file's line and offset, a partition's
// next offset) and its own watermark, "event_time": the largest event time it has delivered
// (rules.md section 4), as JSON.
std::string Position(std::string_view source);
// "platform/<platform id>" -> empty: a platform with any accepted event.
std::string Platform(std::string_view platform);
// "max_ts" -> the largest event time accepted (merged by maximum).
inline constexpr std::string_view kWatermark = "max_ts";
// "watermark" -> the event time that closes months (merged by maximum): the smallest of the
// sources' own watermarks, where a source read to its end and quiet holds no one back (the
// ingest decides, rules.md section 4). A state without it (written before) closes on max_ts.
inline constexpr std::string_view kClosingWatermark = "watermark";

// --- state (the writer and the outbox): delivery bookkeeping ---
// "count/<name>" -> a run counter: accepted, duplicates, rejected deliveries (merged by sum).
std::string Counter(std::string_view name);
// "outbox/next" -> the outbox's next sequence number.
inline constexpr std::string_view kOutboxNext = "outbox/next";
// "held-dead/<source>/<offset, 16 hex digits>" -> a dead letter (OutboxMessage::Encode) of a
// partition another instance was assigned when this one read it: produced by this one only if
// that partition comes to it before the other had (the group's committed offset at or below it).
std::string HeldDeadLetter(std::string_view source, int64_t offset);
std::string HeldDeadLetterPrefix(std::string_view source);
// "readback/<source>" -> how far a topic the monitor writes and reads back (alerts, publication
// notices, kafka:<topic>:<partition>) has been read, as a position ({"offset": N}): not part of
// what the state says, and read again from its beginning when the broker no longer has it.
std::string ReadBack(std::string_view source);
inline constexpr std::string_view kReadBackPrefix = "readback/";
// "state-id" -> a random id of this state, made by the first monitor that runs on it: stamped on
// what the monitor sends (alerts, publication notices) so that, reading them back beside the
// other instances of its group, it knows its own.
inline constexpr std::string_view kStateId = "state-id";
// "judging" -> the share of its group this instance judged when last settled (Ownership::Encode):
// `announce --out` writes evidence for those platforms only (cli.md 1.1). None: a replay, or a
// monitor from before groups: every platform.
inline constexpr std::string_view kJudging = "judging";

// --- rules (CloseQuietMonths): part of what the state says ---
// "quiet-closed/YYYY-MM" -> the wall-clock time (ms) the month was closed at, its topics quiet.
std::string QuietClosed(Period p);

// --- alerts (EvaluateAndAlert), and announce (PublishDue) for publish-due: delivery bookkeeping
// --- "level/YYYY-MM/<platform>/<dimension>" -> "<level>|<1 when alerted as final, else 0>".
std::string Level(Period p, std::string_view platform, std::string_view dimension);
// "alerted-final/YYYY-MM" -> empty: the month's final levels were alerted.
std::string AlertedFinal(Period p);
// "warned/YYYY-MM/<platform>/<detector>/<series>" -> empty: the early warning was alerted.
std::string Warned(Period p, std::string_view platform, std::string_view detector,
                   std::string_view series);
// "publish-due/YYYY-MM" -> empty: the month's announcement is due to be published (written by
// EvaluateAndAlert as the month becomes final, forgotten by PublishDue once it is).
std::string PublishDue(Period p);
inline constexpr std::string_view kPublishDuePrefix = "publish-due/";
// "publish-due/YYYY-MM/rNNNN" -> empty: the correction notice of revision N >= 1 of the month is
// due (written by EvaluateAndAlert with the revision, forgotten by PublishDue once published).
std::string CorrectionDue(Period p, int revision);
// What a publish-due key names: the month, and the revision of a correction (0: the original).
struct Due {
  Period period = 0;
  int revision = 0;
};
std::optional<Due> ParseDue(std::string_view key);

// --- sealed months (rules.md section 4; alerts seal, the writer counts, announce reads): what
// the monitor published, not what the events say ---
// "revision/YYYY-MM/NNNN" -> a revision of the month's sealed verdict (rules/revisions.h): 0 as
// first alerted or published final, 1, 2, ... as events arriving after the seal changed it.
std::string Revision(Period p, int number);
std::string RevisionPrefix(Period p);  // "revision/YYYY-MM/"
inline constexpr std::string_view kRevisionsPrefix = "revision/";
// The month of a revision key (none: not one).
std::optional<Period> PeriodOfRevision(std::string_view key);
// "after-seal/YYYY-MM/<platform>" -> events for the month applied after it was sealed (merged by
// sum), a data-quality figure of each platform.
std::string AfterSeal(Period p, std::string_view platform);
std::string AfterSealPrefix(Period p);
// "seen-after-seal/YYYY-MM/<platform>" -> events for the month this state itself applied after it
// held the month's seal (merged by sum). Where the state sealed the month itself (SealedHere),
// every event it applied after its seal came after the city's: when it seals again (a group's
// publisher back, or a run started) it takes the larger of these and the counts it holds, which
// it adopted, or did not count before a round settled who seals.
std::string SeenAfterSeal(Period p, std::string_view platform);
std::string SeenAfterSealPrefix(Period p);
// "month-events/YYYY-MM/<platform>" -> the events applied for the month (an event's month as for
// the seal: a contribution's period, any other event's time), merged by sum. Every state that
// has read the same messages holds the same counts.
std::string MonthEvents(Period p, std::string_view platform);
std::string MonthEventsPrefix(Period p);
// "at-seal/YYYY-MM/<platform>" -> MonthEvents of the state that sealed the month (revision 0)
// when it sealed, and "at-seal/YYYY-MM" that they were recorded (sent with the seal and adopted
// with it): the events arrived after the seal are the month's events since, counted alike on
// every state whoever sealed (rules/revisions.h, ArrivedAfterSeal).
std::string AtSeal(Period p, std::string_view platform);
std::string AtSealPrefix(Period p);
std::string AtSealRecorded(Period p);
// "rewritten/YYYY-MM/<platform>" -> repeated event ids of the platform whose content differs from
// the first arrival's, for the month the repeat speaks of (merged by sum), a data-quality figure.
std::string Rewritten(Period p, std::string_view platform);
std::string RewrittenPrefix(Period p);
// "sealed-here/YYYY-MM": this state sealed the month (revision 0), rather than adopting it.
std::string SealedHere(Period p);
// "revision-checked/YYYY-MM" -> the month's events after the seal already judged again.
std::string RevisionChecked(Period p);
// "revision-alerted/YYYY-MM" -> the month's last revision whose changes this state alerted for
// the platforms it owns (made here, or adopted from the instance of its group that seals).
std::string RevisionAlerted(Period p);
// "revision-change/YYYY-MM/NNNN/<dimension>/<platform>": the change of revision N for that
// platform-dimension has been alerted, here or by another instance of the group (read back from
// the alerts topic, header flexwatch.revision_change), so that whoever judges the platform next
// alerts a change its previous judge never sent, and none that was sent.
std::string RevisionChangeAlerted(Period p, int revision, std::string_view dimension,
                                  std::string_view platform);
// "sealed-doc/YYYY-MM/NNNN/<file name>" -> a document of revision N of the month as the monitor
// kept it when it published that revision (the original for 0, the correction notice after), in
// every format and language, so that `announce --revision N` prints exactly those bytes.
std::string SealedDocument(Period p, int revision, std::string_view name);
// "issued/<stem>" -> IssueRecord::Encode of the publication whose documents are named <stem>.*
// ("monthly-2024-07", "monthly-2024-07.r1", "annual-2024"): when `run` first published it and its
// number in the year. "issue-seq/YYYY" -> the last number given in the year.
std::string Issued(std::string_view stem);
std::string IssueSeq(int year);

// True for the delivery bookkeeping above (counters, the outbox, levels and warnings alerted,
// publications due): not part of what the state says, so left out of Store::Dump.
bool IsBookkeeping(std::string_view key);

}  // namespace flexwatch::meta_keys
