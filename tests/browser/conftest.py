"""Browser tests of the operator console: headless Chromium (the Debian ``chromium`` and
``chromium-driver`` packages; ``.ci/run`` installs them) driven by Selenium, against the app
with authentication on, served over real HTTP in a thread, with real Celery workers (the e2e
fixtures) where a batch has to run. Missing Chromium fails these tests; they are never skipped.

A screenshot of every page a test looks at is saved under ``build/screenshots/`` (the CI keeps
that folder as an artefact; README's console screenshot is one of them).
"""

import re
import shutil
import threading

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from sqlalchemy import delete
from werkzeug.serving import make_server

from app import create_app
from app.core.permissions import CAMUNDA_ADMIN
from app.extensions import db
from app.models.tables import (
    authorization_table,
    group_member_table,
    group_table,
    tenant_member_table,
    tenant_table,
    user_table,
)
from app.services.identity import bootstrap, groups, users
from tests.e2e.conftest import (  # noqa: F401  (fixtures shared with the end-to-end tests)
    ROOT,
    broker_folder,
    broker_url,
    e2e_settings,
    start_worker,
    wait_for,
)

ADMIN, ADMIN_PASSWORD = "operator", "operator-secret"
SCREENSHOTS = ROOT / "build" / "screenshots"
IDENTITY_TABLES = (authorization_table, tenant_member_table, group_member_table, tenant_table, group_table,
                   user_table)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def console_app(app, e2e_settings):  # noqa: F811
    """Production-like: authentication on; the dispatcher really sends to the test broker."""
    return create_app("test", overrides={**e2e_settings, "AUTH_ENABLED": True})


@pytest.fixture
def operator(console_app):
    """A fresh identity: one administrator (member of camunda-admin); returns (user, password)."""
    with console_app.app_context():
        for table in IDENTITY_TABLES:
            db.session.execute(delete(table))
        db.session.commit()
        users.create_user(None, {"id": ADMIN, "firstName": "Ops", "lastName": "Erator"}, ADMIN_PASSWORD)
        bootstrap.ensure_admin_group()
        groups.add_member(None, CAMUNDA_ADMIN, ADMIN)
        db.session.remove()
    console_app.extensions["credential_cache"].clear()
    return ADMIN, ADMIN_PASSWORD


@pytest.fixture
def console_server(console_app):
    """The console app on a free loopback port; yields its root URL (``http://127.0.0.1:PORT``)."""
    server = make_server("127.0.0.1", 0, console_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="console_server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _binary(*names):
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def driver():
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # only this run's pages in the artefact
    chromium = _binary("chromium", "chromium-browser", "google-chrome")
    chromedriver = _binary("chromedriver")
    if not chromium or not chromedriver:
        pytest.fail("the browser tests need Chromium and its driver: apt-get install -y chromium chromium-driver "
                    "(.ci/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1440,1000", "--lang=en-US"):
        options.add_argument(argument)
    try:
        browser = webdriver.Chrome(options=options, service=Service(chromedriver))
    except WebDriverException as error:
        pytest.fail(f"Chromium could not be started by {chromedriver}: {error.msg}")
    browser.set_page_load_timeout(30)
    yield browser
    browser.quit()


class Console:
    """The browser on the console: navigation, waiting for what a page shows, screenshots."""

    def __init__(self, driver, root, test_name):
        self.driver = driver
        self.root = root
        self.test_name = re.sub(r"[^A-Za-z0-9_-]+", "-", test_name)
        self.shots = 0

    def open(self, path):
        self.driver.get(f"{self.root}/console/{path.lstrip('/')}")

    def path(self):
        return self.driver.current_url[len(self.root):]

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    @staticmethod
    def _again(action):
        """Run ``action``, again if a poll of the page replaced the element meanwhile."""
        for _ in range(20):
            try:
                return action()
            except StaleElementReferenceException:
                continue
        raise AssertionError("the element kept being replaced while the test used it")

    def visible_text(self, css):
        """The element's text if it is shown, else None."""
        def read():
            found = self.find_all(css)
            return found[0].text if found and found[0].is_displayed() else None

        return self._again(read)

    def wait_text(self, css, contains, timeout=30):
        """Poll until the element ``css`` is shown and its text contains ``contains``; returns the text."""
        def check():
            text = self.visible_text(css)
            return text if text is not None and contains in text else None

        try:
            return wait_for(check, timeout=timeout, interval=0.1, message=f"{css} to show {contains!r}")
        except AssertionError:
            self.screenshot("FAILED")
            raise AssertionError(f"{css} did not show {contains!r} within {timeout}s; it shows "
                                 f"{self.visible_text(css)!r}; page {self.path()}; errors: {self.console_errors()}")

    def wait_path(self, prefix, timeout=30):
        wait_for(lambda: self.path().startswith(prefix), timeout=timeout, interval=0.1,
                 message=f"the browser to reach {prefix} (at {self.path()})")

    def rows(self, css):
        """The cell texts of the table's body rows (read again if a poll re-rendered them meanwhile)."""
        return self._again(lambda: [[cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td")]
                                    for row in self.find_all(f"{css} tbody tr")])

    def wait_rows(self, css, count, timeout=30):
        """Poll until the table ``css`` is shown with ``count`` body rows; returns their cells."""
        def check():
            if not self.visible_text(css):
                return None
            rows = self.rows(css)
            return rows if len(rows) == count else None

        try:
            return wait_for(check, timeout=timeout, interval=0.1, message=f"{css} to have {count} rows")
        except AssertionError:
            self.screenshot("FAILED")
            raise AssertionError(f"{css} did not show {count} rows within {timeout}s: {self.rows(css)}; "
                                 f"page {self.path()}; errors: {self.console_errors()}")

    def type(self, css, text):
        field = self.find(css)
        field.clear()
        field.send_keys(text)

    def click(self, css):
        self._again(lambda: self.find(css).click())

    def login(self, user, password):
        self.type("#username", user)
        self.type("#password", password)
        self.click("#login-form button[type=submit]")

    def screenshot(self, step):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        path = SCREENSHOTS / f"{self.test_name}-{self.shots:02d}-{step}.png"
        self.driver.save_screenshot(str(path))
        return path

    def console_errors(self):
        try:
            return [entry["message"] for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]
        except WebDriverException:
            return []


@pytest.fixture
def console(driver, console_server, request):
    driver.delete_all_cookies()
    driver.get(f"{console_server}/console/login")
    driver.execute_script("window.sessionStorage.clear()")
    page = Console(driver, console_server, request.node.name)
    page.console_errors()  # drop what earlier tests left in the browser's log
    yield page
    # A script error or a blocked resource (Content-Security-Policy) is a bug of the console even
    # when the page still showed what the test looked for. Failed requests (404 of an endpoint
    # this server lacks, 401 of a wrong password) are expected and shown as sentences instead.
    broken = [message for message in page.console_errors()
              if any(sign in message for sign in ("Uncaught", "Content Security Policy", "SyntaxError", "console bug"))]
    driver.execute_script("window.sessionStorage.clear()")
    assert not broken, broken
