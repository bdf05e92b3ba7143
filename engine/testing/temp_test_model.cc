#include "engine/testing/temp_test_model.h"

#include <unistd.h>

#include <atomic>
#include <string>
#include <system_error>

#include "engine/cpu/cpu_backend.h"

namespace infernet {

Result<std::filesystem::path> MakeTempDirectory() {
  static std::atomic<uint64_t> counter{0};
  std::error_code ec;
  const std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) return Status::Io("no temporary directory: " + ec.message());
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::filesystem::path dir =
        base / ("infernet-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    if (std::filesystem::create_directory(dir, ec)) return dir;
  }
  return Status::Io("cannot create a temporary directory under " + base.string());
}

Result<std::unique_ptr<TempTestModel>> TempTestModel::Create(const TestModelSpec& spec) {
  INFERNET_ASSIGN_OR_RETURN(std::filesystem::path dir, MakeTempDirectory());
  std::unique_ptr<TempTestModel> model(new TempTestModel());
  model->dir_ = dir;
  model->path_ = dir / "model.gguf";
  model->spec_ = spec;
  INFERNET_RETURN_IF_ERROR(WriteTestModel(spec, model->path_));
  return model;
}

TempTestModel::~TempTestModel() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Result<LoadedTestModel> LoadTestModel(const TestModelSpec& spec, int backend_threads) {
  LoadedTestModel loaded;
  INFERNET_ASSIGN_OR_RETURN(loaded.file, TempTestModel::Create(spec));
  loaded.backend = CreateCpuBackend(backend_threads);
  INFERNET_ASSIGN_OR_RETURN(loaded.model, Model::Load(loaded.file->path(), *loaded.backend));
  return loaded;
}

}  // namespace infernet
