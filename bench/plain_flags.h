// A small command-line parser for the engine benchmark's process. CLI11 includes <iostream>,
// whose static initialisation and CLI11's own code kept ~0.65 MB of libstdc++ and program text
// resident (peak RSS of 100m-Q4_K 70.32-70.36 MB with CLI11, 69.64-69.74 MB with this parser);
// in infernet_prefill_decode_bench that counted in the engine's peak RSS, which is held to
// weights + KV cache + 10 % (docs/benchmarks.md). This parser uses stdio only.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace infernet::bench {

class PlainFlags {
 public:
  explicit PlainFlags(std::string description) : description_(std::move(description)) {}

  // --name VALUE or --name=VALUE, checked against [min, max].
  void Add(std::string name, int* value, std::string help, int min, int max);
  void Add(std::string name, double* value, std::string help, double min, double max);
  // Any value when `choices` is empty, else one of them.
  void Add(std::string name, std::string* value, std::string help,
           std::vector<std::string> choices = {}, bool required = false);
  // --name alone sets *value to true.
  void AddSwitch(std::string name, bool* value, std::string help);

  // Sets the values named in argv[1..]. *help is true (and nothing else is checked) when
  // argv holds --help or -h. Errors: InvalidArgument naming the flag for an unknown flag, a
  // missing or malformed value, a value out of range or not among the choices, or a required
  // flag that is absent.
  Status Parse(int argc, const char* const* argv, bool* help);

  // The description and one line per flag with its default.
  std::string Usage(const std::string& program) const;

 private:
  enum class Kind { kInt, kDouble, kString, kSwitch };
  struct Flag {
    std::string name;  // without the leading --
    Kind kind;
    void* value;
    std::string help;
    double min = 0, max = 0;
    std::vector<std::string> choices;
    bool required = false;
    std::string default_text;
  };
  Status Set(const Flag& flag, const std::string& text);
  Flag* Find(const std::string& name);

  std::string description_;
  std::vector<Flag> flags_;
};

}  // namespace infernet::bench
