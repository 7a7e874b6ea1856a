//! Tenant-aware auth: a token names the tenant and the user and carries a MAC over both
//! (SipHash-2-4 under the identity service's key), so the router can trust the tenant in
//! it without a round trip. The tenant a query runs as comes from here and nowhere else:
//! not from the URL, not from the resource asked for.

use super::msg::TenantId;
use crate::blocks::siphash::{siphash24_words, SipKey};

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Token {
    pub tenant: TenantId,
    pub user: u32,
    pub mac: u64,
}

/// The identity service's signing key (drawn once per seed).
#[derive(Clone, Copy, Debug)]
pub struct Issuer {
    key: SipKey,
}

impl Issuer {
    pub fn new(k0: u64, k1: u64) -> Issuer {
        Issuer { key: SipKey { k0, k1 } }
    }

    pub fn issue(&self, tenant: TenantId, user: u32) -> Token {
        Token { tenant, user, mac: self.mac(tenant, user) }
    }

    fn mac(&self, tenant: TenantId, user: u32) -> u64 {
        siphash24_words(self.key, &[u64::from(tenant), u64::from(user)])
    }

    /// The tenant a valid token speaks for; `None` for a forged or altered one.
    pub fn verify(&self, t: &Token) -> Option<TenantId> {
        (self.mac(t.tenant, t.user) == t.mac).then_some(t.tenant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_and_an_altered_tenant_does_not() {
        let iss = Issuer::new(7, 9);
        let t = iss.issue(3, 11);
        assert_eq!(iss.verify(&t), Some(3));
        assert_eq!(iss.verify(&Token { tenant: 4, ..t }), None);
        assert_eq!(Issuer::new(7, 10).verify(&t), None);
    }
}
