//! Article 9 (and 10) conditions for special-category data, in words, as notices and the
//! record of processing print them.

use tenant_router::config::SpecialCategoryCondition;

/// An Article 9 (or 10) condition in words.
#[must_use]
pub fn condition(c: SpecialCategoryCondition) -> &'static str {
    use SpecialCategoryCondition as C;
    match c {
        C::ExplicitConsent => "Article 9(2)(a): explicit consent",
        C::EmploymentSocialSecurity => {
            "Article 9(2)(b): employment, social security and social protection law"
        }
        C::VitalInterests => "Article 9(2)(c): vital interests",
        C::MadePublicBySubject => "Article 9(2)(e): made public by the person",
        C::LegalClaims => "Article 9(2)(f): legal claims",
        C::SubstantialPublicInterest => "Article 9(2)(g): substantial public interest",
        C::HealthSocialCare => "Article 9(2)(h): health or social care",
        C::PublicHealth => "Article 9(2)(i): public health",
        C::ArchivingResearchStatistics => "Article 9(2)(j): archiving, research and statistics",
        C::CriminalOffenceData => "Article 10: criminal offence data (DPA 2018 schedule 1 part 3)",
    }
}
