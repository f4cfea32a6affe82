"""The module's web resources: the client API, the admin API and the pages.

Each concern adds its routes in a file of its own here and lists its class
in `API_CLASSES`; `docs/openapi.yaml` must document every route (a unit test
compares the two).
"""

from __future__ import annotations

from typing import Any

from synapse_groupreg.http.admin import AdminApi
from synapse_groupreg.http.adoption import AdoptionApi
from synapse_groupreg.http.base import Route
from synapse_groupreg.http.blacklist import BlacklistApi
from synapse_groupreg.http.client import ClientApi
from synapse_groupreg.http.complaints import ComplaintsApi
from synapse_groupreg.http.console import ConsolePage
from synapse_groupreg.http.emergency import EmergencyApi
from synapse_groupreg.http.governance import GovernanceApi
from synapse_groupreg.http.identity import IdentityAdminApi
from synapse_groupreg.http.keywords import KeywordsApi
from synapse_groupreg.http.lists import LinkListsApi, MediaListsApi
from synapse_groupreg.http.mutes import MutesApi
from synapse_groupreg.http.records import RecordsApi
from synapse_groupreg.http.reveals import RevealsApi
from synapse_groupreg.http.rooms import RoomsApi
from synapse_groupreg.http.sanctions import SanctionsApi
from synapse_groupreg.http.users import UsersApi
from synapse_groupreg.http.verify import VerifyPage
from synapse_groupreg.http.violations import ViolationsApi
from synapse_groupreg.services import Services

API_CLASSES: tuple[type[Any], ...] = (ClientApi, AdminApi, RecordsApi)
# Reveal requests before the identity routes: "{user_id}" matches "reveals".
API_CLASSES += (GovernanceApi, RevealsApi, IdentityAdminApi, VerifyPage)
API_CLASSES += (SanctionsApi, BlacklistApi, ViolationsApi, EmergencyApi)
API_CLASSES += (RoomsApi, MutesApi, UsersApi)
API_CLASSES += (KeywordsApi, MediaListsApi, LinkListsApi)
API_CLASSES += (ComplaintsApi,)
API_CLASSES += (ConsolePage,)
API_CLASSES += (AdoptionApi,)


def all_routes(services: Services) -> list[Route]:
    return [route for cls in API_CLASSES for route in cls(services).routes()]
