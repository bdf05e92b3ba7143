#include "cli/keys_command.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_status.h"
#include "core/hex.h"
#include "core/identity.h"

namespace infernet::cli {
namespace {

namespace fs = std::filesystem;

struct KeysFlags {
  std::string key_file;  // empty: DefaultKeyFile()
  bool json = false;
};

Result<fs::path> ChosenKeyFile(const KeysFlags& flags) {
  if (!flags.key_file.empty()) return fs::path(flags.key_file);
  return DefaultKeyFile();
}

// Creates `dir` and missing parents; directories this creates are owner-only (0700), because
// they hold secret keys. Existing directories are left as they are.
Status CreateKeyDirectory(const fs::path& dir) {
  if (dir.empty()) return Status::Ok();
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::Ok();
  INFERNET_RETURN_IF_ERROR(CreateKeyDirectory(dir.parent_path()));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Io("cannot create directory " + dir.string() + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

void PrintIdentity(const NodeIdentity& identity, const fs::path& path, bool json) {
  const std::string id = identity.id().ToHex();
  const std::string ed25519 = HexEncode(identity.signing_public_key());
  const std::string x25519 = HexEncode(identity.encryption_public_key());
  if (json) {
    nlohmann::json doc = {{"key_file", path.string()},
                          {"node_id", id},
                          {"ed25519_public", ed25519},
                          {"x25519_public", x25519}};
    std::printf("%s\n", doc.dump(2).c_str());
  } else {
    std::printf(
        "key file:        %s\nnode id:         %s\ned25519 public:  %s\nx25519 public:   %s\n",
        path.c_str(), id.c_str(), ed25519.c_str(), x25519.c_str());
  }
}

int RunNew(const KeysFlags& flags) {
  auto path = ChosenKeyFile(flags);
  if (!path.ok()) return ReportFailure(path.status());
  Status dir = CreateKeyDirectory(path->parent_path());
  if (!dir.ok()) return ReportFailure(dir);
  NodeIdentity identity = NodeIdentity::Generate();
  Status saved = identity.Save(*path);
  if (!saved.ok()) return ReportFailure(saved);
  PrintIdentity(identity, *path, flags.json);
  return kExitOk;
}

int RunShow(const KeysFlags& flags) {
  auto path = ChosenKeyFile(flags);
  if (!path.ok()) return ReportFailure(path.status());
  auto identity = NodeIdentity::Load(*path);
  if (!identity.ok()) {
    Status s = identity.status();
    if (s.code() == StatusCode::kNotFound) {
      s = Status::NotFound("key file " + path->string() +
                           " not found (create one with `infernet keys new`)");
    }
    return ReportFailure(s);
  }
  PrintIdentity(*identity, *path, flags.json);
  return kExitOk;
}

}  // namespace

Result<fs::path> DefaultKeyFile() {
  if (const char* home = std::getenv("INFERNET_HOME"); home != nullptr && *home != '\0') {
    return fs::path(home) / "node.key";
  }
  const char* user_home = std::getenv("HOME");
  if (user_home == nullptr || *user_home == '\0') {
    return Status::InvalidArgument("neither INFERNET_HOME nor HOME is set; pass the key file");
  }
  return fs::path(user_home) / ".infernet" / "node.key";
}

void RegisterKeysCommand(CLI::App& app, int& exit_code) {
  CLI::App* keys = app.add_subcommand("keys", "Create and inspect the node identity key");
  keys->require_subcommand(1);

  auto new_flags = std::make_shared<KeysFlags>();
  CLI::App* create = keys->add_subcommand(
      "new", "Create a new node key file (mode 0600); never overwrites an existing one");
  create->add_option("-o,--out", new_flags->key_file,
                     "key file to create (default: $INFERNET_HOME/node.key, "
                     "INFERNET_HOME defaulting to ~/.infernet)");
  create->add_flag("--json", new_flags->json, "print the public identity as JSON");
  create->callback([new_flags, &exit_code] { exit_code = RunNew(*new_flags); });

  auto show_flags = std::make_shared<KeysFlags>();
  CLI::App* show = keys->add_subcommand(
      "show", "Print the node ID and public keys of a key file (never the secrets)");
  show->add_option("-k,--key", show_flags->key_file,
                   "key file to read (default: $INFERNET_HOME/node.key, "
                   "INFERNET_HOME defaulting to ~/.infernet)");
  show->add_flag("--json", show_flags->json, "print as JSON");
  show->callback([show_flags, &exit_code] { exit_code = RunShow(*show_flags); });
}

}  // namespace infernet::cli
