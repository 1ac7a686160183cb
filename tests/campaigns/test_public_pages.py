from tests import factories


def test_campaign_page_shows_progress_from_the_raised_figure(client):
    pact = factories.pact(title="Un tetto e un orto")
    lab = factories.lab(title="Laboratorio Cambonino")
    campaign = factories.campaign(
        goal_cents=1_200_000, raised_cents=743_550, gift_count=118, pacts=[pact], labs=[lab]
    )
    page = client.get(f"/campagne/{campaign.slug}").text
    assert "7.435,50\xa0€" in page
    assert "12.000\xa0€" in page
    assert 'value="61"' in page  # progress element: 743550 * 100 // 1200000
    assert "<strong>118</strong>" in page
    assert f'href="/patti/{pact.slug}"' in page
    assert f'href="/laboratori/{lab.slug}"' in page
