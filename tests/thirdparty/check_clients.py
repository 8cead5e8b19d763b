"""Third-party Atlassian clients against the simulator, with unchanged library code.

Starts nothing itself. Needs a running `jsmkit sim --seed 1 --scale small` and:

    JSMKIT_SIM_URL     the site's base URL, e.g. http://127.0.0.1:8090
    JSMKIT_SIM_USERS   the file written by `--users-json`

Run: python -m unittest -v tests/thirdparty/check_clients.py (scripts/test.sh does).
The expected numbers are facts of the seed-1 small site (docs/simulator.md).
"""

import json
import os
import unittest
import uuid

import requests
from requests.adapters import HTTPAdapter
from atlassian import AssetsCloud, Jira, ServiceDesk
from jira import JIRA, JIRAError

BASE = os.environ.get("JSMKIT_SIM_URL", "").rstrip("/")
USERS_FILE = os.environ.get("JSMKIT_SIM_USERS", "")

# Facts of the seed-1 small site.
PROJECT_KEYS = {"FS", "IT", "FAC"}
FS_TICKETS = 162
IT_TICKETS = 73
TICKETS = 300
ASSIGN_TO_TECH = "11"


# AssetsCloud(cloud=True) hard-codes Atlassian's API gateway as its host.
CLOUD_GATEWAY = "https://api.atlassian.com"


class GatewayToSimulator(HTTPAdapter):
    """Sends requests addressed to the API gateway to the simulator, path and query unchanged."""

    def send(self, request, **kwargs):
        request.url = BASE + request.url[len(CLOUD_GATEWAY) :]
        return super().send(request, **kwargs)


def users():
    with open(USERS_FILE, encoding="utf-8") as f:
        return json.load(f)


def user(role):
    return next(u for u in users() if u["role"] == role)


def adf(text):
    """Jira Cloud v3 takes rich text as Atlassian Document Format."""
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def adf_text(doc):
    out = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "text":
                out.append(node.get("text", ""))
            for child in node.get("content", []):
                walk(child)

    walk(doc)
    return "".join(out)


def setUpModule():
    if not BASE or not USERS_FILE:
        raise unittest.SkipTest("set JSMKIT_SIM_URL and JSMKIT_SIM_USERS")


class PycontribsJira(unittest.TestCase):
    """`jira` (pycontribs) configured for Jira Cloud REST v3."""

    @classmethod
    def setUpClass(cls):
        cls.admin = user("admin")
        # The constructor calls GET /rest/api/3/serverInfo.
        cls.jira = JIRA(
            server=BASE,
            basic_auth=(cls.admin["email"], cls.admin["apiToken"]),
            options={"rest_api_version": "3"},
        )

    @classmethod
    def tearDownClass(cls):
        cls.jira.close()

    def one_issue(self, jql):
        found = self.jira.enhanced_search_issues(jql, maxResults=1, fields="summary,status")
        self.assertEqual(len(found), 1, jql)
        return found[0]

    def test_server_info_is_cloud(self):
        self.assertTrue(self.jira._is_cloud)
        info = self.jira.server_info()
        self.assertEqual(info["deploymentType"], "Cloud")
        self.assertEqual(info["baseUrl"], BASE)

    def test_myself(self):
        me = self.jira.myself()
        self.assertEqual(me["accountId"], self.admin["accountId"])
        self.assertEqual(me["emailAddress"], self.admin["email"])

    def test_projects(self):
        projects = self.jira.projects()
        self.assertEqual({p.key for p in projects}, PROJECT_KEYS)
        fs = self.jira.project("FS")
        self.assertEqual(fs.name, "Field Service")
        self.assertEqual(fs.key, "FS")

    def test_enhanced_search_pages_with_next_page_token(self):
        first = self.jira.enhanced_search_issues("project = FS ORDER BY key", maxResults=50, fields="summary")
        self.assertEqual(len(first), 50)
        self.assertTrue(first.nextPageToken)
        second = self.jira.enhanced_search_issues(
            "project = FS ORDER BY key", nextPageToken=first.nextPageToken, maxResults=50, fields="summary"
        )
        self.assertEqual(len(second), 50)
        self.assertFalse({i.key for i in first} & {i.key for i in second})
        # maxResults=0: the library follows nextPageToken to the end, 100 a page.
        every = self.jira.enhanced_search_issues("project = FS", maxResults=0, fields=["summary", "status"])
        self.assertEqual(len(every), FS_TICKETS)
        self.assertEqual(len({i.key for i in every}), FS_TICKETS)
        self.assertTrue(all(i.key.startswith("FS-") for i in every))
        self.assertEqual(self.jira.approximate_issue_count("project = IT"), IT_TICKETS)

    def test_issue_with_fields(self):
        issue = self.jira.issue("FS-1", fields="summary,status,project,customfield_10050")
        self.assertEqual(issue.key, "FS-1")
        self.assertEqual(issue.fields.project.key, "FS")
        self.assertTrue(issue.fields.summary)
        self.assertIn(issue.fields.status.name, {
            "To Dispatch", "Assigned to Tech", "Travelling", "On Site", "Awaiting Parts", "Work Complete", "Closed",
        })
        self.assertFalse(hasattr(issue.fields, "description"))

    def test_transitions_and_transition_issue(self):
        issue = self.one_issue('project = FS AND status = "To Dispatch" ORDER BY key DESC')
        names = {t["id"]: t["name"] for t in self.jira.transitions(issue)}
        self.assertEqual(names.get(ASSIGN_TO_TECH), "Assign to tech")
        self.jira.transition_issue(issue, ASSIGN_TO_TECH)
        self.assertEqual(self.jira.issue(issue.key, fields="status").fields.status.name, "Assigned to Tech")
        # By name, which the library resolves through GET …/transitions.
        self.jira.transition_issue(issue.key, "Start travel")
        self.assertEqual(self.jira.issue(issue.key, fields="status").fields.status.name, "Travelling")

    def test_comments(self):
        key = "IT-3"
        before = len(self.jira.comments(key))
        text = f"Checked by the compatibility suite {uuid.uuid4()}"
        added = self.jira.add_comment(key, adf(text))
        self.assertEqual(adf_text(added.raw["body"]), text)
        self.assertEqual(added.author.accountId, self.admin["accountId"])
        after = self.jira.comments(key)
        self.assertEqual(len(after), before + 1)
        self.assertIn(text, [adf_text(c.raw["body"]) for c in after])

    def test_plain_text_comment_is_refused_in_v3(self):
        with self.assertRaises(JIRAError) as caught:
            self.jira.add_comment("IT-3", "plain text is v2's format")
        self.assertEqual(caught.exception.status_code, 400)
        self.assertIn("Atlassian Document Format", caught.exception.text)

    def test_add_worklog(self):
        key = "FAC-2"
        worklog = self.jira.add_worklog(key, timeSpent="1h 30m", adjustEstimate="auto", comment=adf("Replaced a fuse"))
        self.assertEqual(worklog.timeSpentSeconds, 5400)
        self.assertEqual(worklog.author.accountId, self.admin["accountId"])
        ids = [w.id for w in self.jira.worklogs(key)]
        self.assertIn(worklog.id, ids)

    def test_assign_issue(self):
        tech = user("technician")
        issue = self.one_issue("project = FAC ORDER BY key")
        self.assertTrue(self.jira.assign_issue(issue, tech["accountId"]))
        self.assertEqual(self.jira.issue(issue.key, fields="assignee").fields.assignee.accountId, tech["accountId"])
        found = self.jira.enhanced_search_issues(f'key = {issue.key} AND assignee = "{tech["accountId"]}"')
        self.assertEqual([i.key for i in found], [issue.key])

    def test_search_users(self):
        viewer = user("viewer")
        found = self.jira.search_users(query=viewer["email"])
        self.assertEqual([u.accountId for u in found], [viewer["accountId"]])

    def test_fields(self):
        by_id = {f["id"]: f for f in self.jira.fields()}
        self.assertIn("summary", by_id)
        self.assertEqual(by_id["customfield_10010"]["name"], "Request Type")

    def test_my_permissions(self):
        mine = self.jira.my_permissions(projectKey="FS", permissions="BROWSE_PROJECTS,ADMINISTER")
        self.assertTrue(mine["permissions"]["BROWSE_PROJECTS"]["havePermission"])
        self.assertTrue(mine["permissions"]["ADMINISTER"]["havePermission"])

    def test_viewer_permissions(self):
        viewer = user("viewer")
        as_viewer = JIRA(
            server=BASE,
            basic_auth=(viewer["email"], viewer["apiToken"]),
            options={"rest_api_version": "3"},
            get_server_info=False,
        )
        try:
            mine = as_viewer.my_permissions(permissions="EDIT_ISSUES,ADMINISTER")
            self.assertFalse(mine["permissions"]["EDIT_ISSUES"]["havePermission"])
            self.assertFalse(mine["permissions"]["ADMINISTER"]["havePermission"])
        finally:
            as_viewer.close()

    def test_service_desks_and_request_types(self):
        desks = {d.projectKey: d for d in self.jira.service_desks()}
        self.assertEqual(set(desks), PROJECT_KEYS)
        types = self.jira.request_types(desks["IT"])
        self.assertTrue(types)
        self.assertTrue(all(t.serviceDeskId == desks["IT"].id for t in types))

    def test_missing_issue_is_404_with_jiras_message(self):
        with self.assertRaises(JIRAError) as caught:
            self.jira.issue("FS-99999")
        self.assertEqual(caught.exception.status_code, 404)
        self.assertIn("Issue does not exist or you do not have permission to see it.", caught.exception.text)


class AtlassianPythonApi(unittest.TestCase):
    """atlassian-python-api's `Jira`, `ServiceDesk` and `AssetsCloud`, cloud=True, REST v3."""

    @classmethod
    def setUpClass(cls):
        cls.admin = user("admin")
        cls.auth = {"username": cls.admin["email"], "password": cls.admin["apiToken"], "cloud": True}
        cls.jira = Jira(url=BASE, api_version="3", **cls.auth)

    def test_myself(self):
        me = self.jira.myself()
        self.assertEqual(me["accountId"], self.admin["accountId"])

    def test_get_all_projects(self):
        projects = self.jira.get_all_projects()
        self.assertEqual({p["key"] for p in projects}, PROJECT_KEYS)

    def test_issue(self):
        issue = self.jira.issue("IT-1")
        self.assertEqual(issue["key"], "IT-1")
        self.assertEqual(issue["fields"]["project"]["key"], "IT")

    def test_jql_and_enhanced_jql(self):
        page = self.jira.enhanced_jql("project = IT ORDER BY key", fields="summary", limit=50)
        self.assertEqual(len(page["issues"]), 50)
        self.assertTrue(page["nextPageToken"])
        rest = self.jira.enhanced_jql(
            "project = IT ORDER BY key", fields="summary", limit=50, nextPageToken=page["nextPageToken"]
        )
        self.assertEqual(len(page["issues"]) + len(rest["issues"]), IT_TICKETS)
        self.assertTrue(rest.get("isLast"))
        # `jql` goes to /search/jql too on Cloud.
        keys = [i["key"] for i in self.jira.jql("key in (IT-1, IT-2)", fields="summary")["issues"]]
        self.assertEqual(sorted(keys), ["IT-1", "IT-2"])

    def test_get_issue_transitions(self):
        found = self.jira.enhanced_jql('project = FAC AND status = "To Dispatch"', fields="status", limit=1)
        key = found["issues"][0]["key"]
        by_id = {t["id"]: t for t in self.jira.get_issue_transitions(key)}
        self.assertEqual(by_id[int(ASSIGN_TO_TECH)]["to"], "Assigned to Tech")

    def test_issue_add_comment(self):
        text = f"From atlassian-python-api {uuid.uuid4()}"
        added = self.jira.issue_add_comment("FS-5", adf(text))
        self.assertEqual(adf_text(added["body"]), text)
        bodies = [adf_text(c["body"]) for c in self.jira.issue_get_comments("FS-5")["comments"]]
        self.assertIn(text, bodies)

    def test_service_desk(self):
        sd = ServiceDesk(url=BASE, **self.auth)
        desks = {d["projectKey"]: d for d in sd.get_service_desks()}
        self.assertEqual(set(desks), PROJECT_KEYS)
        types = sd.get_request_types(desks["FS"]["id"])["values"]
        self.assertTrue(types)
        self.assertTrue(all(t["serviceDeskId"] == desks["FS"]["id"] for t in types))

    def test_assets_cloud(self):
        session = requests.Session()
        session.mount(CLOUD_GATEWAY + "/", GatewayToSimulator())
        # Reads the workspace id from /rest/servicedeskapi/assets/workspace on the site, then
        # calls /jsm/assets/workspace/{id}/v1/… on the gateway.
        assets = AssetsCloud(url=BASE, session=session, **self.auth)
        schemas = {s["objectSchemaKey"]: s for s in assets.list_object_schema()["values"]}
        self.assertEqual(set(schemas), {"ITA", "FAC", "CUS"})
        self.assertEqual(schemas["ITA"]["name"], "IT Assets")
        found = assets.aql('objectSchemaId = 1 AND objectType = "Laptop"', max_results=10)
        self.assertEqual(len(found["values"]), 10)
        self.assertFalse(found["isLast"])
        first = found["values"][0]
        self.assertEqual(first["objectType"]["name"], "Laptop")
        self.assertEqual(assets.get_object(first["id"])["objectKey"], first["objectKey"])

    def test_missing_issue_raises_http_error(self):
        with self.assertRaises(requests.HTTPError) as caught:
            self.jira.issue("IT-99999")
        self.assertEqual(caught.exception.response.status_code, 404)


if __name__ == "__main__":
    unittest.main(verbosity=2)
