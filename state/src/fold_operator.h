// The merge operator of the folded records (records.h). Internal to state/.
#pragma once

#include <rocksdb/merge_operator.h>

#include <deque>
#include <string_view>
#include <vector>

#include "flexwatch/state/records.h"

namespace flexwatch {

// Folds a key's value and merge operands in one pass: each record decoded once and the result
// encoded once. (Two at a time, a key read with n operands in the memtables, one per commit
// since the last flush, cost n decodes, encodes and allocations of the whole record.)
class FoldOperator : public rocksdb::MergeOperator {
 public:
  bool FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const override {
    if (!in.existing_value && in.operand_list.size() == 1) {
      out->existing_operand = in.operand_list[0];
      return true;
    }
    std::vector<std::string_view> records;
    records.reserve(in.operand_list.size() + 1);
    if (in.existing_value)
      records.emplace_back(in.existing_value->data(), in.existing_value->size());
    for (const rocksdb::Slice& op : in.operand_list) records.emplace_back(op.data(), op.size());
    return FoldAllRecords(records.data(), records.size(), out->new_value);
  }
  bool PartialMergeMulti(const rocksdb::Slice&, const std::deque<rocksdb::Slice>& operands,
                         std::string* new_value, rocksdb::Logger*) const override {
    std::vector<std::string_view> records;
    records.reserve(operands.size());
    for (const rocksdb::Slice& op : operands) records.emplace_back(op.data(), op.size());
    return FoldAllRecords(records.data(), records.size(), *new_value);
  }
  // The same records and folds as the pairwise operator of earlier versions: the same name.
  const char* Name() const override { return "flexwatch.fold.v1"; }
};

}  // namespace flexwatch
