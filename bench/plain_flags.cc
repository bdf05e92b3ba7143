#include "bench/plain_flags.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace infernet::bench {
namespace {

std::string Format(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace

void PlainFlags::Add(std::string name, int* value, std::string help, int min, int max) {
  flags_.push_back({std::move(name),
                    Kind::kInt,
                    value,
                    std::move(help),
                    static_cast<double>(min),
                    static_cast<double>(max),
                    {},
                    false,
                    std::to_string(*value)});
}

void PlainFlags::Add(std::string name, double* value, std::string help, double min, double max) {
  flags_.push_back({std::move(name),
                    Kind::kDouble,
                    value,
                    std::move(help),
                    min,
                    max,
                    {},
                    false,
                    Format(*value)});
}

void PlainFlags::Add(std::string name, std::string* value, std::string help,
                     std::vector<std::string> choices, bool required) {
  flags_.push_back({std::move(name), Kind::kString, value, std::move(help), 0, 0,
                    std::move(choices), required, *value});
}

void PlainFlags::AddSwitch(std::string name, bool* value, std::string help) {
  flags_.push_back({std::move(name), Kind::kSwitch, value, std::move(help), 0, 0, {}, false, ""});
}

PlainFlags::Flag* PlainFlags::Find(const std::string& name) {
  for (Flag& flag : flags_) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

Status PlainFlags::Set(const Flag& flag, const std::string& text) {
  const std::string where = "--" + flag.name + " " + text;
  if (flag.kind == Kind::kString) {
    bool allowed = flag.choices.empty();
    for (const std::string& choice : flag.choices) allowed = allowed || choice == text;
    if (!allowed) return Status::InvalidArgument(where + ": not one of the allowed values");
    *static_cast<std::string*>(flag.value) = text;
    return Status::Ok();
  }
  if (text.empty()) return Status::InvalidArgument("--" + flag.name + ": empty value");
  char* end = nullptr;
  errno = 0;
  const double number = flag.kind == Kind::kInt
                            ? static_cast<double>(std::strtoll(text.c_str(), &end, 10))
                            : std::strtod(text.c_str(), &end);
  if (*end != '\0' || errno != 0 || !std::isfinite(number)) {
    return Status::InvalidArgument(where + ": not a " +
                                   (flag.kind == Kind::kInt ? "whole number" : "number"));
  }
  if (number < flag.min || number > flag.max) {
    return Status::InvalidArgument(where + ": outside [" + Format(flag.min) + ", " +
                                   Format(flag.max) + "]");
  }
  if (flag.kind == Kind::kInt) {
    *static_cast<int*>(flag.value) = static_cast<int>(number);
  } else {
    *static_cast<double*>(flag.value) = number;
  }
  return Status::Ok();
}

Status PlainFlags::Parse(int argc, const char* const* argv, bool* help) {
  *help = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return Status::Ok();
    }
  }
  std::vector<bool> seen(flags_.size(), false);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      return Status::InvalidArgument("unexpected argument '" + arg + "' (flags start with --)");
    }
    const size_t equals = arg.find('=');
    const std::string name =
        arg.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
    Flag* flag = Find(name);
    if (flag == nullptr) return Status::InvalidArgument("unknown flag --" + name);
    seen[static_cast<size_t>(flag - flags_.data())] = true;
    if (flag->kind == Kind::kSwitch) {
      if (equals != std::string::npos) {
        return Status::InvalidArgument("--" + name + " takes no value");
      }
      *static_cast<bool*>(flag->value) = true;
      continue;
    }
    std::string text;
    if (equals != std::string::npos) {
      text = arg.substr(equals + 1);
    } else if (i + 1 < argc) {
      text = argv[++i];
    } else {
      return Status::InvalidArgument("--" + name + " needs a value");
    }
    if (Status status = Set(*flag, text); !status.ok()) return status;
  }
  for (size_t f = 0; f < flags_.size(); ++f) {
    if (flags_[f].required && !seen[f]) {
      return Status::InvalidArgument("--" + flags_[f].name + " is required");
    }
  }
  return Status::Ok();
}

std::string PlainFlags::Usage(const std::string& program) const {
  std::string text = description_ + "\nUsage: " + program + " [flags]\n";
  for (const Flag& flag : flags_) {
    std::string left = "  --" + flag.name;
    if (flag.kind == Kind::kInt || flag.kind == Kind::kDouble) left += " NUMBER";
    if (flag.kind == Kind::kString) left += " TEXT";
    if (left.size() < 26) left.resize(26, ' ');
    text += left + " " + flag.help;
    if (flag.kind == Kind::kInt || flag.kind == Kind::kDouble) {
      text +=
          " [" + Format(flag.min) + "-" + Format(flag.max) + ", default " + flag.default_text + "]";
    } else if (!flag.choices.empty()) {
      text += " [";
      for (size_t c = 0; c < flag.choices.size(); ++c) {
        text += (c ? ", " : "") + flag.choices[c];
      }
      text += ", default " + flag.default_text + "]";
    }
    if (flag.required) text += " (required)";
    text += "\n";
  }
  text += "  --help                   this text\n";
  return text;
}

}  // namespace infernet::bench
