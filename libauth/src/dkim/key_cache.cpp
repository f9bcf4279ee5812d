// auth::dkim::KeyCache (key_cache.h).
#include "auth/dkim/key_cache.h"

#include <utility>

namespace auth::dkim {

std::shared_ptr<const KeyCache::Entry> KeyCache::make_entry(KeyRecord record) {
  auto e = std::make_shared<Entry>();
  e->record = std::move(record);
  if (!e->record.revoked()) {
    auto pk = crypto::PublicKey::from_dkim_p(e->record.key_type, e->record.public_key);
    if (pk) {
      e->key = std::move(*pk);
    } else {
      e->key_error = pk.error().reason;
    }
  }
  return e;
}

std::shared_ptr<const KeyCache::Entry> KeyCache::find(std::string_view txt) const {
  std::lock_guard lock(mu_);
  auto it = map_.find(txt);
  return it == map_.end() ? nullptr : it->second;
}

void KeyCache::insert(std::string txt, std::shared_ptr<const Entry> entry) {
  if (!entry || max_entries_ == 0 || txt.size() > kMaxKeyRecordBytes) return;
  std::lock_guard lock(mu_);
  auto [it, inserted] = map_.try_emplace(txt, entry);
  if (!inserted) {
    it->second = std::move(entry);
    return;
  }
  order_.push_back(std::move(txt));
  while (map_.size() > max_entries_ && !order_.empty()) {
    map_.erase(order_.front());
    order_.pop_front();
  }
}

std::size_t KeyCache::size() const {
  std::lock_guard lock(mu_);
  return map_.size();
}

}  // namespace auth::dkim
