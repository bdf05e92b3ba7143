#include "bench/read_probe_client.h"

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <vector>

namespace infernet::bench {

Result<std::unique_ptr<ReadProbeClient>> ReadProbeClient::Start(const std::string& program,
                                                                int threads, int buffer_mib,
                                                                int repetitions) {
  std::vector<std::string> args = {program,
                                   "--threads=" + std::to_string(threads),
                                   "--buffer_mib=" + std::to_string(buffer_mib),
                                   "--repetitions=" + std::to_string(repetitions),
                                   "--skip_sgemm",
                                   "--probe_loop"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int in[2], out[2];
  if (pipe(in) != 0) return Status::Io("pipe failed");
  if (pipe(out) != 0) {
    close(in[0]);
    close(in[1]);
    return Status::Io("pipe failed");
  }
  const pid_t pid = fork();
  if (pid < 0) return Status::Io("fork failed");
  if (pid == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  std::unique_ptr<ReadProbeClient> client(new ReadProbeClient(pid, in[1], out[0]));
  Result<std::string> ready = client->ReadLine();
  if (!ready.ok()) {
    close(client->to_child_);
    client->to_child_ = -1;
    int status = 0;
    waitpid(client->pid_, &status, 0);
    client->pid_ = -1;
    const bool missing = WIFEXITED(status) && WEXITSTATUS(status) == 127;
    return Status::Internal(program + " --probe_loop ended before its first reading" +
                            (missing ? " (not found: build it or pass --limits-program)" : ""));
  }
  if (ready->find("\"ready\"") == std::string::npos) {
    return Status::Internal(program + " --probe_loop did not start: '" + *ready + "'");
  }
  return client;
}

ReadProbeClient::~ReadProbeClient() {
  if (to_child_ >= 0) close(to_child_);
  close(from_child_);
  int status = 0;
  if (pid_ > 0) waitpid(pid_, &status, 0);
}

Result<std::string> ReadProbeClient::ReadLine() {
  for (;;) {
    const size_t end = pending_.find('\n');
    if (end != std::string::npos) {
      std::string line = pending_.substr(0, end);
      pending_.erase(0, end + 1);
      return line;
    }
    char buffer[256];
    const ssize_t got = read(from_child_, buffer, sizeof(buffer));
    if (got <= 0) return Status::Internal("the read-bandwidth probe process ended");
    pending_.append(buffer, static_cast<size_t>(got));
  }
}

Result<double> ReadProbeClient::Read() {
  if (write(to_child_, "\n", 1) != 1) return Status::Internal("cannot ask the probe process");
  INFERNET_ASSIGN_OR_RETURN(const std::string line, ReadLine());
  const auto json = nlohmann::json::parse(line, nullptr, false);
  const double gb_s = json.is_object() ? json.value("gb_per_s", 0.0) : 0.0;
  if (!(gb_s > 0)) return Status::Internal("unexpected probe reply '" + line + "'");
  return gb_s;
}

}  // namespace infernet::bench
