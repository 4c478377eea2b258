//! SharePoint and OneDrive tenant settings (`/admin/sharepoint/settings`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::macros::graph_enum;

graph_enum!(
    /// How far content may be shared outside the organisation.
    SharingCapability {
        Disabled = "disabled",
        ExternalUserSharingOnly = "externalUserSharingOnly",
        ExternalUserAndGuestSharing = "externalUserAndGuestSharing",
        ExistingExternalUserSharingOnly = "existingExternalUserSharingOnly",
    }
);

impl SharingCapability {
    /// How widely this level shares: larger is wider.
    pub fn breadth(self) -> u8 {
        match self {
            SharingCapability::Disabled => 0,
            SharingCapability::ExistingExternalUserSharingOnly => 1,
            SharingCapability::ExternalUserSharingOnly => 2,
            SharingCapability::ExternalUserAndGuestSharing => 3,
        }
    }
}

graph_enum!(
    /// Whether external sharing is limited by domain.
    SharingDomainRestrictionMode {
        None = "none",
        AllowList = "allowList",
        BlockList = "blockList",
    }
);

graph_enum!(
    /// Automatic image tagging.
    ImageTaggingOption {
        Disabled = "disabled",
        Basic = "basic",
        Enhanced = "enhanced",
    }
);

graph_enum!(
    /// The link the sharing dialog offers first (SharePoint's `DefaultSharingLinkType`).
    DefaultSharingLinkType {
        /// SharePoint's own default (it behaves as `organization`).
        None = "none",
        /// Only the people the user names.
        SpecificPeople = "specific-people",
        /// Everyone in the organisation.
        Organization = "organization",
        /// Anyone with the link, signed in or not.
        Anyone = "anyone",
    }
);

graph_enum!(
    /// What a sharing link lets its holder do.
    LinkPermission {
        /// Read only.
        View = "view",
        /// Read and change.
        Edit = "edit",
    }
);

graph_enum!(
    /// What an Anyone link to a file or folder lets its holder do.
    AnyoneLinkPermission {
        /// Anyone links cannot be made for this item type.
        None = "none",
        /// Read only.
        View = "view",
        /// Read and change (and upload, for folders).
        Edit = "edit",
    }
);

graph_enum!(
    /// Access from devices that are neither compliant nor joined (`ConditionalAccessPolicy`).
    UnmanagedDeviceAccess {
        /// Full access from any device.
        FullAccess = "full-access",
        /// Browser-only access, no download, print or sync.
        LimitedAccess = "limited-access",
        /// No access.
        Block = "block",
    }
);

graph_enum!(
    /// Which files open in the browser under limited access (`LimitedAccessFileType`).
    LimitedAccessFileType {
        /// Office files in Office for the web only.
        OfficeOnlineFilesOnly = "office-online-files-only",
        /// Office files and other files SharePoint can preview.
        WebPreviewableFiles = "web-previewable-files",
        /// Every file type, including those that cannot be previewed.
        OtherFiles = "other-files",
    }
);

graph_enum!(
    /// Restricted SharePoint Search: whether organisation-wide search (and Copilot) only sees
    /// the allowed sites and the user's own content.
    RestrictedSearchMode {
        /// Search sees every site the user can open.
        Disabled = "disabled",
        /// Search sees only the allowed sites, plus what the user owns or was given.
        Enabled = "enabled",
    }
);

/// SharePoint and OneDrive tenant settings. Undeclared settings are left alone.
///
/// Settings Graph exposes are read and written through Graph's `/admin/sharepoint/settings`;
/// the others (from `core-sharing-capability` on) through SharePoint's own admin API. Each
/// setting has one name here, so a file names it once and a plan shows it once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SharepointSettings {
    /// External sharing level for SharePoint (and the ceiling for OneDrive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharing_capability: Option<SharingCapability>,
    /// `none`, `allowList` or `blockList`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharing_domain_restriction_mode: Option<SharingDomainRestrictionMode>,
    /// Domains sharing is allowed with (with `allowList`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharing_allowed_domain_list: Option<Vec<String>>,
    /// Domains sharing is blocked with (with `blockList`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharing_blocked_domain_list: Option<Vec<String>>,
    /// Whether guests may share items they do not own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_resharing_by_external_users_enabled: Option<bool>,
    /// Whether guests must sign in with the account the invitation was sent to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_require_accepting_user_to_match_invited_user_enabled: Option<bool>,
    /// Days a deleted user's OneDrive is kept (30–3650).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 30, max = 3650))]
    pub deleted_user_personal_site_retention_period_in_days: Option<i32>,
    /// Idle session sign-out for unmanaged devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_session_sign_out: Option<IdleSessionSignOut>,
    /// Whether legacy authentication protocols may reach SharePoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_legacy_auth_protocols_enabled: Option<bool>,
    /// Sync is restricted to devices joined to these domains (GUIDs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("items" = {"type": "string", "format": "uuid"}))]
    pub allowed_domain_guids_for_sync_app: Option<Vec<String>>,
    /// File extensions the sync app does not upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_file_extensions_for_sync_app: Option<Vec<String>>,
    /// Whether the sync app only runs on domain-joined PCs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_unmanaged_sync_app_for_tenant_restricted: Option<bool>,
    /// Whether the Mac sync app may be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_mac_sync_app_enabled: Option<bool>,
    /// Whether the Sync button is hidden on OneDrive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_sync_button_hidden_on_personal_site: Option<bool>,
    /// Managed paths new sites may be created under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_managed_paths_for_site_creation: Option<Vec<String>>,
    /// Default managed path for new sites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_creation_default_managed_path: Option<String>,
    /// Default storage limit for new sites, in MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    #[serde(rename = "siteCreationDefaultStorageLimitInMB")]
    pub site_creation_default_storage_limit_in_mb: Option<i32>,
    /// Default OneDrive storage limit, in MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    #[serde(rename = "personalSiteDefaultStorageLimitInMB")]
    pub personal_site_default_storage_limit_in_mb: Option<i64>,
    /// Whether site storage is managed automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_sites_storage_limit_automatic: Option<bool>,
    /// Whether users may create sites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_site_creation_enabled: Option<bool>,
    /// Whether the site creation UI is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "isSiteCreationUIEnabled")]
    pub is_site_creation_ui_enabled: Option<bool>,
    /// Whether users may create site pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_site_pages_creation_enabled: Option<bool>,
    /// Whether comments on site pages are allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_commenting_on_site_pages_enabled: Option<bool>,
    /// Whether file activity notifications are sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_file_activity_notification_enabled: Option<bool>,
    /// Whether Loop components are enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_loop_enabled: Option<bool>,
    /// Whether SharePoint mobile notifications are sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_share_point_mobile_notification_enabled: Option<bool>,
    /// Whether the SharePoint newsfeed is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_share_point_newsfeed_enabled: Option<bool>,
    /// Automatic image tagging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_tagging_option: Option<ImageTaggingOption>,
    /// Default time zone for new sites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_default_timezone: Option<String>,
    // SharePoint admin API only (`_api/SPO.Tenant`, written through CSOM).
    /// External sharing level for SharePoint sites alone, OneDrive excluded
    /// (`CoreSharingCapability`); no wider than `sharing-capability`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_sharing_capability: Option<SharingCapability>,
    /// External sharing level for OneDrive (`ODBSharingCapability`): may be stricter than
    /// SharePoint's, never wider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_drive_sharing_capability: Option<SharingCapability>,
    /// The link the sharing dialog offers first: `specific-people`, `organization`, `anyone`
    /// or `none` (SharePoint's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_sharing_link_type: Option<DefaultSharingLinkType>,
    /// The permission new sharing links get first: `view` or `edit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_link_permission: Option<LinkPermission>,
    /// Days an Anyone link lives: 1–730, or 0 for links that never expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 730))]
    pub require_anonymous_links_expire_in_days: Option<i32>,
    /// What Anyone links to files allow: `view`, `edit` or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_anonymous_link_type: Option<AnyoneLinkPermission>,
    /// What Anyone links to folders allow: `view`, `edit` or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder_anonymous_link_type: Option<AnyoneLinkPermission>,
    /// Whether guests lose access after `external-user-expire-in-days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_user_expiration_required: Option<bool>,
    /// Days a guest keeps access to a site (30–730).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 30, max = 730))]
    pub external_user_expire_in_days: Option<i32>,
    /// Whether people who signed in with a verification code must enter a new one after
    /// `email-attestation-re-auth-days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_attestation_required: Option<bool>,
    /// Days before a verification-code sign-in must be repeated (1–365).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 365))]
    pub email_attestation_re_auth_days: Option<i32>,
    /// Access from unmanaged devices (`ConditionalAccessPolicy`): `full-access`,
    /// `limited-access` or `block`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmanaged_device_access: Option<UnmanagedDeviceAccess>,
    /// Under limited access, which files open in the browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limited_access_file_type: Option<LimitedAccessFileType>,
    /// Under limited access, whether files may be edited in the browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_editing: Option<bool>,
    /// Under limited access, whether files the browser cannot show may be downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_downloading_non_web_viewable_files: Option<bool>,
    /// Whether guests are kept from downloading any file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_download_of_all_files_for_guests: Option<bool>,
    /// Whether SharePoint and OneDrive process files with sensitivity labels
    /// (`EnableAIPIntegration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_aip_integration: Option<bool>,
    /// Whether sites may be restricted to the members of chosen groups (restricted site
    /// access; needs SharePoint Advanced Management).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_restricted_access_control: Option<bool>,
    /// Restricted SharePoint Search: `enabled` or `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted_search_mode: Option<RestrictedSearchMode>,
    /// The sites organisation-wide search (and Copilot) still sees under Restricted SharePoint
    /// Search, by URL (at most 100). The list is owned whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 100))]
    pub restricted_search_allowed_sites: Option<Vec<String>>,
}

/// Idle session sign-out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdleSessionSignOut {
    /// Whether idle sessions are signed out.
    pub is_enabled: bool,
    /// Seconds of inactivity before a warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub warn_after_in_seconds: Option<i64>,
    /// Seconds of inactivity before sign-out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub sign_out_after_in_seconds: Option<i64>,
}

impl super::Resource for SharepointSettings {
    fn checks(&self) -> Vec<super::Finding> {
        super::checks::sharepoint_settings(self)
    }
}
