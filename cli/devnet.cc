#include "cli/devnet.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/hex.h"

extern char** environ;

namespace infernet::cli {
namespace {

constexpr int kReadyTimeoutMs = 60000;
constexpr int kStopGraceMs = 10000;

std::filesystem::path SelfExe() { return std::filesystem::read_symlink("/proc/self/exe"); }

// Runs this binary with `args` to completion; its output goes to `log`.
Status RunToCompletion(const std::vector<std::string>& args, const std::filesystem::path& log) {
  std::vector<char*> argv;
  const std::string exe = SelfExe().string();
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::Io("cannot start " + exe + ": " + std::strerror(rc));
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Internal("`infernet " + args.front() + " " + args.at(1) + "` failed; see " +
                            log.string());
  }
  return Status::Ok();
}

}  // namespace

Result<DevnetProcess> Devnet::Spawn(const std::string& role, std::vector<std::string> args) {
  DevnetProcess process;
  process.role = role;
  process.log = dir_ / (role + ".log");
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return Status::Io("pipe failed");
  const std::string exe = SelfExe().string();
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, process.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  const int rc = posix_spawn(&process.pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    return Status::Io("cannot start " + exe + ": " + std::strerror(rc));
  }
  processes_.push_back(process);  // stopped by Stop() whatever happens next
  // The node prints one JSON line when it is ready; wait for it (bounded).
  std::string line;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kReadyTimeoutMs);
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{out[0], POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    char buffer[512];
    const ssize_t n = read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    line.append(buffer, static_cast<size_t>(n));
  }
  close(out[0]);
  nlohmann::json ready = nlohmann::json::parse(line.substr(0, line.find('\n')), nullptr, false);
  if (ready.is_discarded() || ready.value("event", "") != "ready") {
    return Status(StatusCode::kUnavailable,
                  role + " did not start; its log is " + process.log.string());
  }
  process.node_id = ready.value("node_id", "");
  process.grpc = ready.value("grpc", "");
  process.dht_port = ready.value("dht_port", 0);
  processes_.back() = process;
  return process;
}

std::string Devnet::bootstrap_address() const {
  return "127.0.0.1:" + std::to_string(processes_.at(0).dht_port);
}

Result<std::unique_ptr<Devnet>> Devnet::Start(const DevnetOptions& options) {
  if (options.providers < 1 || options.providers > 64) {
    return Status::InvalidArgument("--providers must be in [1, 64]");
  }
  std::unique_ptr<Devnet> net(new Devnet());
  if (options.dir.empty()) {
    char pattern[] = "/tmp/infernet-devnet.XXXXXX";
    if (!mkdtemp(pattern)) return Status::Io("cannot create a devnet directory in /tmp");
    net->dir_ = pattern;
    net->remove_dir_ = true;
  } else {
    net->dir_ = options.dir;
    std::error_code ec;
    std::filesystem::create_directories(net->dir_, ec);
    if (ec) return Status::Io("cannot create " + net->dir_.string() + ": " + ec.message());
  }
  const std::filesystem::path model = net->dir_ / "model.gguf";
  if (!std::filesystem::exists(model)) {
    INFERNET_RETURN_IF_ERROR(
        RunToCompletion({"model", "make-test", "--out", model.string(), "--preset",
                         options.model_preset, "--arch", "llama", "--type", options.model_type},
                        net->dir_ / "make-model.log"));
  }
  INFERNET_ASSIGN_OR_RETURN(net->model_hash_, Blake2b256File(model));

  INFERNET_RETURN_IF_ERROR(
      net->Spawn("bootstrap", {"node", "--roles", "bootstrap", "--home",
                               (net->dir_ / "bootstrap").string(), "--dht-listen", "127.0.0.1:0"})
          .status());
  const std::string bootstrap = net->bootstrap_address();
  INFERNET_RETURN_IF_ERROR(
      net->Spawn("aggregator",
                 {"node", "--roles", "aggregator", "--home", (net->dir_ / "aggregator").string(),
                  "--listen", "127.0.0.1:0", "--dht-listen", "127.0.0.1:0", "--bootstrap",
                  bootstrap, "--target-shard-ms", std::to_string(options.target_shard_ms),
                  "--record-ttl-seconds", "60"})
          .status());
  for (int i = 1; i <= options.providers; ++i) {
    const std::string name = "provider-" + std::to_string(i);
    const std::filesystem::path home = net->dir_ / name;
    std::error_code ec;
    std::filesystem::create_directories(home / "models", ec);
    const std::filesystem::path copy = home / "models" / "model.gguf";
    if (!std::filesystem::exists(copy)) {
      std::filesystem::create_hard_link(model, copy, ec);
      if (ec) std::filesystem::copy_file(model, copy, ec);
      if (ec) return Status::Io("cannot place the model for " + name + ": " + ec.message());
    }
    INFERNET_RETURN_IF_ERROR(net->Spawn(name, {"node",
                                               "--roles",
                                               "provider",
                                               "--home",
                                               home.string(),
                                               "--listen",
                                               "127.0.0.1:0",
                                               "--dht-listen",
                                               "127.0.0.1:0",
                                               "--bootstrap",
                                               bootstrap,
                                               "--threads",
                                               std::to_string(options.provider_threads),
                                               "--runtime",
                                               options.runtime,
                                               "--simulated-us-per-token",
                                               std::to_string(options.simulated_us_per_token),
                                               "--price-per-mtok-micros",
                                               std::to_string(100 + 10 * i),
                                               "--max-concurrent",
                                               "1",
                                               "--max-queue",
                                               "4",
                                               "--record-ttl-seconds",
                                               "60"})
                                 .status());
  }
  return net;
}

void Devnet::Stop() {
  for (DevnetProcess& p : processes_) {
    if (p.pid > 0) kill(p.pid, SIGTERM);
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kStopGraceMs);
  for (DevnetProcess& p : processes_) {
    if (p.pid <= 0) continue;
    int status;
    while (waitpid(p.pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > until) {
        kill(p.pid, SIGKILL);
        waitpid(p.pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // reaping poll, bounded
    }
    p.pid = -1;
  }
  if (remove_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    remove_dir_ = false;
  }
}

Devnet::~Devnet() { Stop(); }

}  // namespace infernet::cli
