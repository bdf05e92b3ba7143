// Random test models written to a private temporary directory for the duration of a test.
#pragma once

#include <filesystem>
#include <memory>

#include "core/result.h"
#include "engine/backend.h"
#include "engine/model/model.h"
#include "engine/model/test_model.h"

namespace infernet {

class TempTestModel {
 public:
  // Writes `spec` to a new, uniquely named directory under the system's temporary directory.
  static Result<std::unique_ptr<TempTestModel>> Create(const TestModelSpec& spec);
  // Removes the directory and everything in it.
  ~TempTestModel();

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& dir() const { return dir_; }
  const TestModelSpec& spec() const { return spec_; }

 private:
  TempTestModel() = default;
  std::filesystem::path dir_;
  std::filesystem::path path_;
  TestModelSpec spec_;
};

// A test model written to a temporary file and loaded on the CPU back end. Members are destroyed
// in reverse order: the model before its back end, the file last.
struct LoadedTestModel {
  std::unique_ptr<TempTestModel> file;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Model> model;
};
Result<LoadedTestModel> LoadTestModel(const TestModelSpec& spec, int backend_threads = 2);

// A fresh empty directory (for tests that write files of their own); removed by the caller.
Result<std::filesystem::path> MakeTempDirectory();

}  // namespace infernet
