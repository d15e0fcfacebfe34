// The event model of spec/events.md (contract version 1), decoded and validated.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "flexwatch/core/time.h"

namespace flexwatch {

enum class EventType : uint8_t { kOrder, kContract, kContribution, kCoverage, kComplaint };
enum class Sector : uint8_t {
  kFoodDelivery,
  kRideHailing,
  kInstantDelivery,
  kFreight,
  kExpressDelivery,
  kHomeServices,
  kLiveStreaming,
  kOther
};
inline constexpr int kSectorCount = 8;
enum class ContractAction : uint8_t { kSigned, kTerminated };
// Ordered from the strongest protection to the weakest; "no contract" is weaker than all.
enum class ContractForm : uint8_t {
  kLaborContract,
  kLaborDispatch,
  kOutsourcing,
  kWrittenAgreement,
  kIndividualBusiness,
  kFreelance
};
inline constexpr int kContractFormCount = 6;
enum class Scheme : uint8_t {
  kPension,
  kMedical,
  kUnemployment,
  kWorkInjury,
  kOccupationalInjury,
  kHousingFund
};
inline constexpr int kSchemeCount = 6;
enum class Payer : uint8_t { kEmployer, kIndividual, kPlatform };
inline constexpr int kPayerCount = 3;
enum class Product : uint8_t {
  kAccident,
  kOccupationalInjury,
  kMedicalSupplement,
  kEmployerLiability
};
inline constexpr int kProductCount = 4;
enum class ComplaintCategory : uint8_t {
  kNoContract,
  kUnpaidContribution,
  kInjuryUncovered,
  kPayDispute,
  kExcessiveHours,
  kOther
};
inline constexpr int kComplaintCategoryCount = 6;

// Wire names, indexed by the enum's value.
inline constexpr std::array<std::string_view, 5> kEventTypeNames = {
    "order", "contract", "contribution", "coverage", "complaint"};
inline constexpr std::array<std::string_view, kSectorCount> kSectorNames = {
    "food_delivery",    "ride_hailing",  "instant_delivery", "freight",
    "express_delivery", "home_services", "live_streaming",   "other"};
inline constexpr std::array<std::string_view, 2> kContractActionNames = {"signed", "terminated"};
inline constexpr std::array<std::string_view, kContractFormCount> kContractFormNames = {
    "labor_contract",    "labor_dispatch",      "outsourcing",
    "written_agreement", "individual_business", "freelance"};
inline constexpr std::array<std::string_view, kSchemeCount> kSchemeNames = {
    "pension", "medical", "unemployment", "work_injury", "occupational_injury", "housing_fund"};
inline constexpr std::array<std::string_view, kPayerCount> kPayerNames = {"employer", "individual",
                                                                          "platform"};
inline constexpr std::array<std::string_view, kProductCount> kProductNames = {
    "accident", "occupational_injury", "medical_supplement", "employer_liability"};
inline constexpr std::array<std::string_view, kComplaintCategoryCount> kComplaintCategoryNames = {
    "no_contract", "unpaid_contribution", "injury_uncovered",
    "pay_dispute", "excessive_hours",     "other"};

// Byte equality for short strings, inline (a memcmp call costs more than the comparison).
inline bool EqualShort(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

template <typename E, size_t N>
std::optional<E> EnumFromName(const std::array<std::string_view, N>& names, std::string_view s) {
  for (size_t i = 0; i < N; ++i)
    if (EqualShort(names[i], s)) return static_cast<E>(i);
  return std::nullopt;
}

template <typename E>
std::string_view NameOf(E e);
template <>
inline std::string_view NameOf(EventType e) {
  return kEventTypeNames[static_cast<int>(e)];
}
template <>
inline std::string_view NameOf(Sector e) {
  return kSectorNames[static_cast<int>(e)];
}
template <>
inline std::string_view NameOf(ContractAction e) {
  return kContractActionNames[static_cast<int>(e)];
}
template <>
inline std::string_view NameOf(ContractForm e) {
  return kContractFormNames[static_cast<int>(e)];
}
template <>
inline std::string_view NameOf(Scheme e) {
  return kSchemeNames[static_cast<int>(e)];
}
template <>
inline std::string_view NameOf(Payer e) {
  return kPayerNames[static_cast<int>(e)];
}
template <>
inline std::string_view NameOf(Product e) {
  return kProductNames[static_cast<int>(e)];
}
template <>
inline std::string_view NameOf(ComplaintCategory e) {
  return kComplaintCategoryNames[static_cast<int>(e)];
}

// Money is integer fen (1/100 yuan). Working time is integer milli-minutes so that sums are exact.
using Fen = int64_t;
using MilliMinutes = int64_t;

struct OrderFields {
  Sector sector = Sector::kOther;
  MilliMinutes duration = 0;
  Fen earnings = 0;
  std::string district;  // empty when absent
};

struct ContractFields {
  ContractAction action = ContractAction::kSigned;
  ContractForm form = ContractForm::kFreelance;
  std::string counterparty_id;
};

struct ContributionFields {
  Period period = 0;
  Scheme scheme = Scheme::kPension;
  Payer payer = Payer::kEmployer;
  Fen base = 0;  // 0 when absent (occupational_injury)
  Fen amount = 0;
  int64_t orders_covered = 0;  // occupational_injury only
};

struct CoverageFields {
  Product product = Product::kAccident;
  Fen sum_insured = 0;
  Day valid_from = 0;
  Day valid_to = 0;
};

struct ComplaintFields {
  ComplaintCategory category = ComplaintCategory::kOther;
};

// One validated event. Only the member group matching `type` is meaningful.
struct Event {
  EventType type = EventType::kOrder;
  std::string event_id;
  TimestampMs ts = 0;
  std::string platform_id;
  std::string worker_id;  // empty only for an anonymous complaint
  OrderFields order;
  ContractFields contract;
  ContributionFields contribution;
  CoverageFields coverage;
  ComplaintFields complaint;
};

}  // namespace flexwatch
