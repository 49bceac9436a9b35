//! Every mutation takes `input: VerbNounInput!` and answers `VerbNounPayload!`, each named for it
//! (`pauseCampaign` → `PauseCampaignInput`, `PauseCampaignPayload`), so one mutation can grow a
//! field without changing another's contract. Several mutations share a shape; this macro writes
//! their types from one line each instead of a copied struct per mutation.

/// `one_field_types!(SimpleObject "answers", campaign: CampaignNode, "The campaign after the
/// change." => PauseCampaignPayload "pauseCampaign", ResumeCampaignPayload "resumeCampaign")`
/// defines one struct per name with the single public field, documented for its mutation.
#[macro_export]
macro_rules! one_field_types {
    ($derive:ident $verb:literal, #[$attr:meta] $field:ident: $ty:ty, $field_doc:literal => $($name:ident $mutation:literal),+ $(,)?) => {
        $( $crate::one_field_types!(@one $derive $verb, [#[$attr]] $field: $ty, $field_doc, $name $mutation); )+
    };
    ($derive:ident $verb:literal, $field:ident: $ty:ty, $field_doc:literal => $($name:ident $mutation:literal),+ $(,)?) => {
        $( $crate::one_field_types!(@one $derive $verb, [] $field: $ty, $field_doc, $name $mutation); )+
    };
    (@one $derive:ident $verb:literal, [$($attr:tt)*] $field:ident: $ty:ty, $field_doc:literal, $name:ident $mutation:literal) => {
        #[doc = concat!("What `", $mutation, "` ", $verb, ".")]
        #[derive(async_graphql::$derive)]
        pub struct $name {
            #[doc = $field_doc]
            $($attr)*
            pub $field: $ty,
        }
    };
}
