#include "net/node_certificate.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <memory>

namespace infernet::net {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, Free>;

std::string DrainBio(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(length));
}

Status Refuse(const std::string& why) {
  return Status(StatusCode::kUnauthenticated, "peer certificate refused: " + why);
}

}  // namespace

Result<NodeCertificate> MakeNodeCertificate(const NodeIdentity& identity) {
  auto seed = identity.signing_seed();
  Owned<EVP_PKEY> key(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  Owned<X509> cert(X509_new());
  if (!key || !cert)
    return Status::Internal("OpenSSL could not create an Ed25519 key or certificate");
  uint64_t serial = 0;
  randombytes_buf(&serial, sizeof(serial));
  bool ok = X509_set_version(cert.get(), 2) == 1 &&
            ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial >> 1) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600) != nullptr &&
            X509_set_pubkey(cert.get(), key.get()) == 1;
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = identity.id().ToHex();
  ok = ok &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                  0) == 1 &&
       X509_set_issuer_name(cert.get(), name) == 1 &&
       X509_sign(cert.get(), key.get(), nullptr) > 0;  // Ed25519 takes no separate digest
  if (!ok) return Status::Internal("OpenSSL could not build the node certificate");

  Owned<BIO> cert_bio(BIO_new(BIO_s_mem()));
  Owned<BIO> key_bio(BIO_new(BIO_s_secmem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    return Status::Internal("OpenSSL could not encode the node certificate");
  }
  return NodeCertificate{DrainBio(cert_bio.get()), DrainBio(key_bio.get())};
}

Result<NodeId> NodeIdFromCertificatePem(std::string_view pem) {
  if (pem.empty()) return Refuse("no certificate presented");
  if (pem.size() > 64 * 1024) return Refuse("certificate larger than 64 KiB");
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Owned<X509> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return Refuse("not a PEM X.509 certificate");
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  if (key == nullptr || EVP_PKEY_id(key) != EVP_PKEY_ED25519) return Refuse("key is not Ed25519");
  if (X509_verify(cert.get(), key) != 1) return Refuse("not validly self-signed by its key");
  PublicKey raw{};
  size_t length = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &length) != 1 || length != raw.size()) {
    return Refuse("Ed25519 key cannot be read");
  }
  return NodeId::FromPublicKey(raw);
}

}  // namespace infernet::net
