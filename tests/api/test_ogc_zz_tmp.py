from tests.api.test_ogc_api import client  # noqa

def test_zz(client):
    for path, params in (("/ogc/collections/townships/items/%00", None), ("/ogc/collections/incidents/items", {"category": "a\x00b"}),
                         ("/ogc/collections/incidents/items", {"offset": str(10**20)}), ("/ogc/collections/incidents/items", {"limit": str(10**30)}),
                         ("/ogc/collections/incidents/items", {"bbox": "1e400,0,1,1"}), ("/ogc/collections/incidents/items", {"datetime": "2026-05-01T10:00:00+25:00"}),
                         ("/ogc/collections/incidents/items", {"datetime": "0001-01-01/9999-12-31"}),
                         ("/ogc/collections/incidents/items", {"datetime": "9999-12-31T23:59:59.999999+00:00"}),
                         ("/ogc/collections/%00", None)):
        r = client.get(path, params=params)
        print(path, params, r.status_code, r.text[:150])
