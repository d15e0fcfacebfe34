#include "flexwatch/core/status.h"

namespace flexwatch {

std::string Status::ToString() const {
  const char* prefix = "OK";
  switch (code_) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      prefix = "NotFound: ";
      break;
    case Code::kCorruption:
      prefix = "Corruption: ";
      break;
    case Code::kInvalidArgument:
      prefix = "Invalid argument: ";
      break;
    case Code::kIOError:
      prefix = "IO error: ";
      break;
    case Code::kUsage:
      prefix = "Usage: ";
      break;
  }
  return prefix + msg_;
}

}  // namespace flexwatch
