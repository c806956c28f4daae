"""Camunda's authorization vocabulary: resources, permissions, authorization types, the admin group.

The numbers are Camunda's (``Resources``, ``Permissions`` and the per-resource permission enums
such as ``BatchPermissions``), because they are what clients send and store: an authorization
row holds a resource type number and a permission bit mask, exactly as ``ACT_RU_AUTHORIZATION``
does. Which permissions a resource type has follows ``ResourceTypeUtil``: the resources with
their own enum use it, every other resource the generic ``Permissions`` that list it.

Also here: :class:`Authentication` (who is calling, with their groups and tenants, as Camunda's
``IdentityService.setAuthentication`` holds it) and :class:`AuthorizationError`, Camunda's
``AuthorizationException`` (403) with its DTO.
"""

from dataclasses import dataclass, field

from app.core.errors import ApiError, BadUserRequest

ANY = "*"  # Authorization.ANY: every resource id (or, for GLOBAL authorizations, every user)

# Authorization.AUTH_TYPE_*
AUTH_TYPE_GLOBAL = 0
AUTH_TYPE_GRANT = 1
AUTH_TYPE_REVOKE = 2
AUTH_TYPES = (AUTH_TYPE_GLOBAL, AUTH_TYPE_GRANT, AUTH_TYPE_REVOKE)

# Groups.CAMUNDA_ADMIN: its members may do everything (see app.services.auth).
CAMUNDA_ADMIN = "camunda-admin"
CAMUNDA_ADMIN_NAME = "camunda BPM Administrators"
GROUP_TYPE_SYSTEM = "SYSTEM"

ALL_BITS = 2**31 - 1  # Permissions.ALL = Integer.MAX_VALUE
NONE_BITS = 0


@dataclass(frozen=True)
class Resource:
    """One of Camunda's ``Resources``: ``name`` as messages show it (``resourceName()``),
    ``key`` as the enum constant (what ``ResourceTypeUtil`` prints in its errors)."""

    key: str
    name: str
    type: int


APPLICATION = Resource("APPLICATION", "Application", 0)
USER = Resource("USER", "User", 1)
GROUP = Resource("GROUP", "Group", 2)
GROUP_MEMBERSHIP = Resource("GROUP_MEMBERSHIP", "Group membership", 3)
AUTHORIZATION = Resource("AUTHORIZATION", "Authorization", 4)
FILTER = Resource("FILTER", "Filter", 5)
PROCESS_DEFINITION = Resource("PROCESS_DEFINITION", "ProcessDefinition", 6)
TASK = Resource("TASK", "Task", 7)
PROCESS_INSTANCE = Resource("PROCESS_INSTANCE", "ProcessInstance", 8)
DEPLOYMENT = Resource("DEPLOYMENT", "Deployment", 9)
DECISION_DEFINITION = Resource("DECISION_DEFINITION", "DecisionDefinition", 10)
TENANT = Resource("TENANT", "Tenant", 11)
TENANT_MEMBERSHIP = Resource("TENANT_MEMBERSHIP", "TenantMembership", 12)
BATCH = Resource("BATCH", "Batch", 13)
DECISION_REQUIREMENTS_DEFINITION = Resource("DECISION_REQUIREMENTS_DEFINITION", "DecisionRequirementsDefinition", 14)
REPORT = Resource("REPORT", "Report", 15)
DASHBOARD = Resource("DASHBOARD", "Dashboard", 16)
OPERATION_LOG_CATEGORY = Resource("OPERATION_LOG_CATEGORY", "OperationLogCatgeory", 17)  # sic, as Camunda spells it
OPTIMIZE = Resource("OPTIMIZE", "Optimize", 18)
HISTORIC_TASK = Resource("HISTORIC_TASK", "HistoricTask", 19)
HISTORIC_PROCESS_INSTANCE = Resource("HISTORIC_PROCESS_INSTANCE", "HistoricProcessInstance", 20)
SYSTEM = Resource("SYSTEM", "System", 21)

RESOURCES = (
    APPLICATION, USER, GROUP, GROUP_MEMBERSHIP, AUTHORIZATION, FILTER, PROCESS_DEFINITION, TASK,
    PROCESS_INSTANCE, DEPLOYMENT, DECISION_DEFINITION, TENANT, TENANT_MEMBERSHIP, BATCH,
    DECISION_REQUIREMENTS_DEFINITION, REPORT, DASHBOARD, OPERATION_LOG_CATEGORY, OPTIMIZE, HISTORIC_TASK,
    HISTORIC_PROCESS_INSTANCE, SYSTEM,
)
RESOURCES_BY_TYPE = {resource.type: resource for resource in RESOURCES}

# The generic Permissions enum: name -> (bit, resource types it applies to). NONE and ALL apply
# to every resource.
_GENERIC = {
    "READ": (2, {AUTHORIZATION, BATCH, DASHBOARD, DECISION_DEFINITION, DECISION_REQUIREMENTS_DEFINITION,
                 DEPLOYMENT, FILTER, GROUP, PROCESS_DEFINITION, PROCESS_INSTANCE, REPORT, TASK, TENANT, USER}),
    "UPDATE": (4, {AUTHORIZATION, BATCH, DASHBOARD, DECISION_DEFINITION, FILTER, GROUP, PROCESS_DEFINITION,
                   PROCESS_INSTANCE, REPORT, TASK, TENANT, USER}),
    "CREATE": (8, {AUTHORIZATION, BATCH, DASHBOARD, DEPLOYMENT, FILTER, GROUP, GROUP_MEMBERSHIP, PROCESS_INSTANCE,
                   REPORT, TASK, TENANT, TENANT_MEMBERSHIP, USER}),
    "DELETE": (16, {AUTHORIZATION, BATCH, DASHBOARD, DEPLOYMENT, FILTER, GROUP, GROUP_MEMBERSHIP,
                    PROCESS_DEFINITION, PROCESS_INSTANCE, REPORT, TASK, TENANT, TENANT_MEMBERSHIP, USER}),
    "ACCESS": (32, {APPLICATION}),
    "READ_TASK": (64, {PROCESS_DEFINITION}),
    "UPDATE_TASK": (128, {PROCESS_DEFINITION}),
    "CREATE_INSTANCE": (256, {DECISION_DEFINITION, PROCESS_DEFINITION}),
    "READ_INSTANCE": (512, {PROCESS_DEFINITION}),
    "UPDATE_INSTANCE": (1024, {PROCESS_DEFINITION}),
    "DELETE_INSTANCE": (2048, {PROCESS_DEFINITION}),
    "READ_HISTORY": (4096, {BATCH, DECISION_DEFINITION, PROCESS_DEFINITION, TASK}),
    "DELETE_HISTORY": (8192, {BATCH, DECISION_DEFINITION, PROCESS_DEFINITION}),
    "TASK_WORK": (16384, {PROCESS_DEFINITION, TASK}),
    "TASK_ASSIGN": (32768, {PROCESS_DEFINITION, TASK}),
    "MIGRATE_INSTANCE": (65536, {PROCESS_DEFINITION}),
}

# The resources with their own permission enum (ResourceTypeUtil.PERMISSION_ENUMS), in enum order.
_OWN = {
    BATCH: {
        "READ": 2, "UPDATE": 4, "CREATE": 8, "DELETE": 16, "READ_HISTORY": 4096, "DELETE_HISTORY": 8192,
        "CREATE_BATCH_MIGRATE_PROCESS_INSTANCES": 32, "CREATE_BATCH_MODIFY_PROCESS_INSTANCES": 64,
        "CREATE_BATCH_RESTART_PROCESS_INSTANCES": 128, "CREATE_BATCH_DELETE_RUNNING_PROCESS_INSTANCES": 256,
        "CREATE_BATCH_DELETE_FINISHED_PROCESS_INSTANCES": 512, "CREATE_BATCH_DELETE_DECISION_INSTANCES": 1024,
        "CREATE_BATCH_SET_JOB_RETRIES": 2048, "CREATE_BATCH_SET_EXTERNAL_TASK_RETRIES": 16384,
        "CREATE_BATCH_UPDATE_PROCESS_INSTANCES_SUSPEND": 32768, "CREATE_BATCH_SET_REMOVAL_TIME": 65536,
        "CREATE_BATCH_SET_VARIABLES": 131072, "CREATE_BATCH_CORRELATE_MESSAGE": 262144,
    },
    PROCESS_DEFINITION: {
        "READ": 2, "UPDATE": 4, "DELETE": 16, "READ_TASK": 64, "UPDATE_TASK": 128, "CREATE_INSTANCE": 256,
        "READ_INSTANCE": 512, "UPDATE_INSTANCE": 1024, "DELETE_INSTANCE": 2048, "READ_HISTORY": 4096,
        "DELETE_HISTORY": 8192, "TASK_WORK": 16384, "TASK_ASSIGN": 32768, "MIGRATE_INSTANCE": 65536,
        "RETRY_JOB": 32, "SUSPEND": 1048576, "SUSPEND_INSTANCE": 131072, "UPDATE_INSTANCE_VARIABLE": 262144,
        "UPDATE_TASK_VARIABLE": 524288, "READ_INSTANCE_VARIABLE": 2097152, "READ_HISTORY_VARIABLE": 4194304,
        "READ_TASK_VARIABLE": 8388608, "UPDATE_HISTORY": 16777216,
    },
    PROCESS_INSTANCE: {
        "READ": 2, "UPDATE": 4, "CREATE": 8, "DELETE": 16, "RETRY_JOB": 32, "SUSPEND": 64, "UPDATE_VARIABLE": 128,
    },
    TASK: {
        "READ": 2, "UPDATE": 4, "CREATE": 8, "DELETE": 16, "READ_HISTORY": 4096, "TASK_WORK": 16384,
        "TASK_ASSIGN": 32768, "UPDATE_VARIABLE": 32, "READ_VARIABLE": 64,
    },
    HISTORIC_TASK: {"READ": 2, "READ_VARIABLE": 64},
    HISTORIC_PROCESS_INSTANCE: {"READ": 2},
    OPERATION_LOG_CATEGORY: {"READ": 2, "UPDATE": 4, "DELETE": 16},
    OPTIMIZE: {"EDIT": 2, "SHARE": 4},
    SYSTEM: {"READ": 2, "SET": 4, "DELETE": 8},
}


def _permission_table(resource_type):
    """``{name: bit}`` of ``resource_type`` in Camunda's enum order, NONE and ALL first."""
    table = {"NONE": NONE_BITS, "ALL": ALL_BITS}
    resource = RESOURCES_BY_TYPE.get(resource_type)
    if resource in _OWN:
        table.update(_OWN[resource])
    elif resource is None:
        # ResourceTypeUtil falls back to the whole generic enum for a type it does not know.
        table.update({name: bit for name, (bit, _) in _GENERIC.items()})
    else:
        table.update({name: bit for name, (bit, types) in _GENERIC.items() if resource in types})
    return table


PERMISSIONS_BY_TYPE = {resource.type: _permission_table(resource.type) for resource in RESOURCES}


def permissions_of(resource_type):
    """``{name: bit}`` for a resource type (the generic table for a type Camunda does not know)."""
    return PERMISSIONS_BY_TYPE.get(resource_type) or _permission_table(resource_type)


def permission_bit(name, resource_type):
    """The bit of permission ``name`` on ``resource_type``; a 400 with Camunda's message if it has none."""
    table = permissions_of(resource_type)
    if name not in table:
        resource = RESOURCES_BY_TYPE.get(resource_type)
        raise BadUserRequest(
            f"The permission '{name}' is not valid for '{resource.key if resource else None}' resource type.")
    return table[name]


def permission_names(authorization_type, bits, resource_type):
    """The names an authorization shows (PermissionConverter.getNamesForPermissions).

    GRANT/GLOBAL list the granted permissions, REVOKE the revoked ones; every bit set (or, for
    REVOKE, none) is just ``["ALL"]``; NONE and ALL never appear beside other names.
    """
    if authorization_type in (AUTH_TYPE_GLOBAL, AUTH_TYPE_GRANT) and bits == ALL_BITS:
        return ["ALL"]
    if authorization_type == AUTH_TYPE_REVOKE and bits == NONE_BITS:
        return ["ALL"]
    names = []
    for name, bit in permissions_of(resource_type).items():
        if name in ("NONE", "ALL"):
            continue
        granted = (bits & bit) == bit
        if granted if authorization_type != AUTH_TYPE_REVOKE else not granted:
            names.append(name)
    return names


def bits_for(authorization_type, names, resource_type):
    """The bit mask stored for ``names`` (AuthorizationEntity.setPermissions): GRANT and GLOBAL
    start from NONE and add, REVOKE starts from ALL and removes."""
    bits = ALL_BITS if authorization_type == AUTH_TYPE_REVOKE else NONE_BITS
    for name in names:
        bit = permission_bit(name, resource_type)
        if authorization_type == AUTH_TYPE_REVOKE:
            bits &= ~bit
        else:
            bits |= bit
    return bits


@dataclass(frozen=True)
class Authentication:
    """The authenticated caller: user id exactly as sent, the groups and tenants it belongs to
    (tenants directly or through a group), as Camunda's filter sets them per request (C.6)."""

    user_id: str
    group_ids: tuple = field(default_factory=tuple)
    tenant_ids: tuple = field(default_factory=tuple)

    @property
    def is_admin(self):
        return CAMUNDA_ADMIN in self.group_ids


@dataclass(frozen=True)
class MissingAuthorization:
    permission_name: str
    resource: Resource
    resource_id: str = None

    def describe(self):
        where = f"{self.resource_id}' of type '" if self.resource_id is not None else ""
        return f"'{self.permission_name}' permission on resource '{where}{self.resource.name}'"

    def to_dict(self):
        return {"permissionName": self.permission_name, "resourceName": self.resource.name,
                "resourceId": self.resource_id}


class AuthorizationError(ApiError):
    """Camunda's ``AuthorizationException``: 403 with ``AuthorizationExceptionDto`` (C.7.2).

    One missing authorization gives the single-check message (with a trailing dot); several,
    the "one of the following permissions" message, entries joined by `` or ``.
    """

    status = 403
    type = "AuthorizationException"
    code = 0

    def __init__(self, user_id, missing):
        self.user_id = user_id
        self.missing = list(missing)
        if len(self.missing) == 1:
            message = f"The user with id '{user_id}' does not have {self.missing[0].describe()}."
        else:
            entries = " or ".join(entry.describe() for entry in self.missing)
            message = f"The user with id '{user_id}' does not have one of the following permissions: {entries}"
        super().__init__(message)

    def to_dict(self):
        single = self.missing[0] if len(self.missing) == 1 else None
        return {
            "type": self.type,
            "message": self.message,
            "code": self.code,
            "userId": self.user_id,
            "resourceName": single.resource.name if single else None,
            "resourceId": single.resource_id if single else None,
            "permissionName": single.permission_name if single else None,
            "missingAuthorizations": [entry.to_dict() for entry in self.missing],
        }
