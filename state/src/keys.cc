// The keys of each column family (store.h, namespace keys) and the values of contracts and
// policies.

#include "encoding.h"
#include "flexwatch/state/store.h"

namespace flexwatch {

using namespace state_detail;

namespace keys {
void AppendWorkerMonthKey(std::string& out, Period p, std::string_view platform,
                          std::string_view worker) {
  out.clear();
  PutBE32(out, static_cast<uint32_t>(p));
  out.append(platform).push_back('\0');
  out.append(worker);
}
std::string WorkerMonthKey(Period p, std::string_view platform, std::string_view worker) {
  std::string k;
  AppendWorkerMonthKey(k, p, platform, worker);
  return k;
}
std::string Contract(std::string_view platform, std::string_view worker, TimestampMs ts,
                     std::string_view event_id) {
  std::string k = PartyPrefix(platform, worker);
  PutBE64(k, OrderedTs(ts));
  k.append(event_id);
  return k;
}
std::string Contribution(Period p, std::string_view platform, std::string_view worker,
                         Scheme scheme, Payer payer, Day paid_on) {
  std::string k;
  PutBE32(k, static_cast<uint32_t>(p));
  k += PartyPrefix(platform, worker);
  k.push_back(static_cast<char>(scheme));
  k.push_back(static_cast<char>(payer));
  PutBE32(k, OrderedDay(paid_on));
  return k;
}
std::string Policy(std::string_view platform, std::string_view worker, Day valid_from,
                   std::string_view event_id) {
  std::string k = PartyPrefix(platform, worker);
  PutBE32(k, OrderedDay(valid_from));
  k.append(event_id);
  return k;
}
std::string Complaint(Period p, std::string_view platform, ComplaintCategory c) {
  std::string k;
  PutBE32(k, static_cast<uint32_t>(p));
  k.append(platform).push_back('\0');
  k.push_back(static_cast<char>(c));
  return k;
}
std::string DeadLetter(std::string_view source, int64_t line, std::string_view raw) {
  std::string k(source);
  k.push_back('\0');
  PutBE64(k, static_cast<uint64_t>(line));
  PutBE64(k, Fnv1a(raw));
  return k;
}
}  // namespace keys

std::string EncodeContract(const Event& e) {
  std::string v;
  v.push_back(static_cast<char>(e.contract.action));
  v.push_back(static_cast<char>(e.contract.form));
  v += e.contract.counterparty_id;
  return v;
}

std::string EncodePolicy(const Event& e) {
  std::string v;
  v.push_back(static_cast<char>(e.coverage.product));
  PutBE64(v, static_cast<uint64_t>(e.coverage.sum_insured));
  PutBE32(v, OrderedDay(e.coverage.valid_to));
  PutBE64(v, OrderedTs(e.ts));
  return v;
}

}  // namespace flexwatch
