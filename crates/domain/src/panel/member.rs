//! Panel members as imported: every field checked, so a bad row is refused with a reason
//! instead of reaching the registry.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A row as read from a CSV or XLSX file (columns by header name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberDraft {
    /// 姓名.
    pub name: String,
    /// 类别: a configured group code or name.
    pub group: String,
    /// 地址.
    pub address: String,
    /// 邮编.
    pub postcode: String,
    /// 电话.
    pub phone: String,
    /// 办理过业务的科室: unit names separated by 、 ; or ,
    #[serde(default)]
    pub units: String,
    /// 来源: where the contact came from (e.g. 政务服务大厅登记).
    #[serde(default)]
    pub source: String,
}

/// A checked member, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMember {
    /// Name.
    pub name: String,
    /// Group code.
    pub group: String,
    /// Postal address.
    pub address: String,
    /// Six-digit postcode.
    pub postcode: String,
    /// Phone, digits only (with a dash after a landline's area code).
    pub phone: String,
    /// Units they dealt with, as written.
    pub units: Vec<String>,
    /// Where the contact came from.
    pub source: String,
    /// The day they were added.
    pub added_on: NaiveDate,
}

/// Why a row was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    /// A required field is empty.
    #[error("{0}为空 · {0} is missing")]
    Missing(&'static str),
    /// The name is implausible.
    #[error("姓名过长 · name longer than 50 characters")]
    NameTooLong,
    /// Not a configured group.
    #[error("类别“{0}”不存在 · unknown group `{0}`")]
    UnknownGroup(String),
    /// Not a mobile (1xxxxxxxxxx) or landline (0xx-xxxxxxxx) number.
    #[error("电话“{0}”格式不正确 · bad phone number `{0}`")]
    BadPhone(String),
    /// Not six digits.
    #[error("邮编“{0}”应为6位数字 · postcode `{0}` is not six digits")]
    BadPostcode(String),
    /// A field holds a control character (a NUL, an escape…) that no printed address or
    /// export should carry; line breaks and tabs typed in a cell are allowed.
    #[error("{0}含有控制字符 · {0} contains a control character")]
    ControlCharacter(&'static str),
    /// The same name and phone appear already (in the file or the registry).
    #[error("与已有成员重复（同名同电话）· duplicate of an existing member (same name and phone)")]
    Duplicate,
}

/// Normalises a phone number: an 11-digit mobile starting 13–19, or a landline with a
/// 3–4 digit area code starting 0 and a 7–8 digit number. Spaces, dashes and a +86 prefix
/// are tolerated.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let without_country = trimmed
        .strip_prefix("+86")
        .or_else(|| trimmed.strip_prefix("0086"))
        .unwrap_or(trimmed);
    let digits: String = without_country
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    if without_country
        .chars()
        .any(|c| !(c.is_ascii_digit() || c == '-' || c == ' ' || c == '(' || c == ')'))
    {
        return None;
    }
    let bytes = digits.as_bytes();
    if bytes.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]) {
        return Some(digits);
    }
    if bytes.first() == Some(&b'0') && (10..=12).contains(&bytes.len()) {
        // Chongqing and the big cities use 3-digit codes (023); the rest 4.
        let area = if matches!(&digits[..2], "01" | "02") {
            3
        } else {
            4
        };
        let local = &digits[area..];
        if (7..=8).contains(&local.len()) {
            return Some(format!("{}-{}", &digits[..area], local));
        }
    }
    None
}

impl MemberDraft {
    /// Checks a row. `group_code` maps a group's code or name to its code.
    pub fn parse(
        self,
        added_on: NaiveDate,
        group_code: impl Fn(&str) -> Option<String>,
    ) -> Result<NewMember, RowError> {
        for (field, value) in [
            ("姓名 name", &self.name),
            ("类别 group", &self.group),
            ("地址 address", &self.address),
            ("邮编 postcode", &self.postcode),
            ("电话 phone", &self.phone),
            ("办理过业务的科室 units", &self.units),
            ("来源 source", &self.source),
        ] {
            // A line break typed inside a spreadsheet cell is kept; NUL and the like are not.
            if value
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                return Err(RowError::ControlCharacter(field));
            }
        }
        let name = self.name.trim().to_string();
        if name.is_empty() {
            return Err(RowError::Missing("姓名 name"));
        }
        if name.chars().count() > 50 {
            return Err(RowError::NameTooLong);
        }
        let group_text = self.group.trim();
        if group_text.is_empty() {
            return Err(RowError::Missing("类别 group"));
        }
        let group =
            group_code(group_text).ok_or_else(|| RowError::UnknownGroup(group_text.into()))?;
        let address = self.address.trim().to_string();
        if address.is_empty() {
            return Err(RowError::Missing("地址 address"));
        }
        let postcode = self.postcode.trim().to_string();
        if postcode.len() != 6 || !postcode.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RowError::BadPostcode(postcode));
        }
        if self.phone.trim().is_empty() {
            return Err(RowError::Missing("电话 phone"));
        }
        let phone = normalize_phone(&self.phone)
            .ok_or_else(|| RowError::BadPhone(self.phone.trim().into()))?;
        let units = self
            .units
            .split(['、', ';', '；', ',', '，'])
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(String::from)
            .collect();
        Ok(NewMember {
            name,
            group,
            address,
            postcode,
            phone,
            units,
            source: self.source.trim().to_string(),
            added_on,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> MemberDraft {
        MemberDraft {
            name: " 李明 ".into(),
            group: "企业".into(),
            address: "重庆市南川区东城街道金佛大道1号".into(),
            postcode: "408400".into(),
            phone: "138 0838 0001".into(),
            units: "不动产登记中心、企业注册科".into(),
            source: "政务服务大厅".into(),
        }
    }

    fn groups(s: &str) -> Option<String> {
        match s {
            "企业" | "enterprise" => Some("enterprise".into()),
            _ => None,
        }
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    #[test]
    fn a_good_row_is_cleaned_up() {
        let m = row().parse(day(), groups).unwrap();
        assert_eq!(m.name, "李明");
        assert_eq!(m.group, "enterprise");
        assert_eq!(m.phone, "13808380001");
        assert_eq!(m.units, ["不动产登记中心", "企业注册科"]);
    }

    #[test]
    fn control_characters_are_refused_with_the_field() {
        let mut r = row();
        r.name = "李\0明".into();
        assert_eq!(
            r.parse(day(), groups),
            Err(RowError::ControlCharacter("姓名 name"))
        );
        let mut r = row();
        r.address = "东城街道\u{1b}金佛大道1号".into();
        assert_eq!(
            r.parse(day(), groups),
            Err(RowError::ControlCharacter("地址 address"))
        );
        let mut r = row();
        r.address = "东城街道\n金佛大道1号".into();
        assert!(
            r.parse(day(), groups).is_ok(),
            "a line break typed in a cell"
        );
    }

    #[test]
    fn phones_are_mobiles_or_landlines() {
        assert_eq!(
            normalize_phone("+86 139-0000-1111").as_deref(),
            Some("13900001111")
        );
        assert_eq!(
            normalize_phone("023-71412345").as_deref(),
            Some("023-71412345")
        );
        assert_eq!(
            normalize_phone("0851-8612345").as_deref(),
            Some("0851-8612345")
        );
        for bad in [
            "12345",
            "1200000000",
            "10000000000",
            "abc13800000000",
            "023-12",
            "",
        ] {
            assert_eq!(normalize_phone(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_bad_field_has_its_reason() {
        let cases = [
            (
                MemberDraft {
                    name: " ".into(),
                    ..row()
                },
                RowError::Missing("姓名 name"),
            ),
            (
                MemberDraft {
                    group: "外星人".into(),
                    ..row()
                },
                RowError::UnknownGroup("外星人".into()),
            ),
            (
                MemberDraft {
                    phone: "12345".into(),
                    ..row()
                },
                RowError::BadPhone("12345".into()),
            ),
            (
                MemberDraft {
                    postcode: "4084".into(),
                    ..row()
                },
                RowError::BadPostcode("4084".into()),
            ),
            (
                MemberDraft {
                    address: "".into(),
                    ..row()
                },
                RowError::Missing("地址 address"),
            ),
        ];
        for (draft, want) in cases {
            assert_eq!(draft.parse(day(), groups), Err(want));
        }
    }
}
